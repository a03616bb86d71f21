import { add, quotePath, diffRevisions, diffStaged, diffWorktree, diffWorktreeAgainst, remove, restore, status, toRepoPath, FileDiff } from '../../engine';
import { CliCommand, CliContext, UsageError, bold, cyan, green, red, requireArgs } from '../cli';
import { formatDiffStat, statWidth } from '../format';

async function specsFrom(ctx: CliContext, args: string[]): Promise<string[]> {
  const repo = await ctx.repo();
  return args.map((a) => toRepoPath(repo.root, ctx.cwd, a));
}

export function printDiff(ctx: CliContext, diffs: FileDiff[]): void {
  for (const d of diffs) {
    for (const line of d.patch.replace(/\n$/, '').split('\n')) {
      if (!ctx.color) ctx.out(line + '\n');
      else if (line.startsWith('diff --git') || line.startsWith('index ') || line.startsWith('--- ') || line.startsWith('+++ ')) ctx.out(bold(true, line) + '\n');
      else if (line.startsWith('@@')) ctx.out(cyan(true, line) + '\n');
      else if (line.startsWith('+')) ctx.out(green(true, line) + '\n');
      else if (line.startsWith('-')) ctx.out(red(true, line) + '\n');
      else ctx.out(line + '\n');
    }
  }
}

export const fileCommands: CliCommand[] = [
  {
    name: 'add',
    summary: 'Stage file contents for the next commit.',
    usage: 'add [-f] [-A | -u] [<path>…]',
    help: `A folder (or ".") stages every file in it that is not ignored, and the deletion of tracked files that are gone.

  -A, --all      without paths: the whole work tree, from any folder (new, changed and deleted files)
  -u, --update   only files already tracked (their changes and deletions), in the paths or the whole work tree
  -f, --force    add files even if a .patchignore rule ignores them`,
    options: { force: { type: 'boolean', short: 'f' }, all: { type: 'boolean', short: 'A' }, update: { type: 'boolean', short: 'u' } },
    async run(ctx, v, args) {
      if (v.all && v.update) throw new UsageError('-A and -u cannot be used together.');
      if (!v.all && !v.update) requireArgs(args, 1, 'paths to add (use "." for everything here, -A for the whole work tree)');
      const repo = await ctx.repo();
      const specs = args.length ? await specsFrom(ctx, args) : [''];
      const r = await add(repo, specs, { force: !!v.force, updateOnly: !!v.update });
      if (r.added.length + r.removed.length === 0) return;
      ctx.err(`staged ${r.added.length} file${r.added.length === 1 ? '' : 's'}${r.removed.length ? `, ${r.removed.length} deletion${r.removed.length === 1 ? '' : 's'}` : ''}\n`);
    },
  },
  {
    name: 'rm',
    summary: 'Stop tracking files and delete them from the work tree.',
    usage: 'rm [--cached] [-r] [-f] <path>…',
    help: `  --cached      keep the file in the work tree; only stop tracking it
  -r            allow removing a whole folder
  -f, --force   remove even when the file has uncommitted changes`,
    options: { cached: { type: 'boolean' }, recursive: { type: 'boolean', short: 'r' }, force: { type: 'boolean', short: 'f' } },
    async run(ctx, v, args) {
      requireArgs(args, 1, 'paths to remove');
      const r = await remove(await ctx.repo(), await specsFrom(ctx, args), { cached: !!v.cached, recursive: !!v.recursive, force: !!v.force });
      for (const p of r.paths) ctx.out(`rm '${p}'\n`);
    },
  },
  {
    name: 'restore',
    summary: 'Discard work-tree changes, or unstage with --staged.',
    usage: 'restore [--staged] [--source <rev>] <path>…',
    help: `  (default)        put the staged version back into the work tree (discards your edits)
  -S, --staged     put the HEAD version back into the staging area (unstage); files are untouched
  -s, --source     with --staged, take the version from this revision instead of HEAD`,
    options: { staged: { type: 'boolean', short: 'S' }, source: { type: 'string', short: 's' } },
    async run(ctx, v, args) {
      requireArgs(args, 1, 'paths to restore');
      if (v.source && !v.staged) throw new UsageError('--source is only supported together with --staged.');
      await restore(await ctx.repo(), await specsFrom(ctx, args), { staged: !!v.staged, source: v.source as string | undefined });
    },
  },
  {
    name: 'status',
    summary: 'Show staged, unstaged, untracked and conflicted files.',
    usage: 'status [-s] [--json] [<path>…]',
    help: `  -s, --short   one line per file: two status letters (staged, work tree) and the path
  --json        machine-readable output for scripts`,
    options: { short: { type: 'boolean', short: 's' }, json: { type: 'boolean' } },
    async run(ctx, v, args) {
      const repo = await ctx.repo();
      const s = await status(repo, args.length ? await specsFrom(ctx, args) : undefined);
      if (v.json) {
        ctx.out(JSON.stringify({ ...s, head: { ...s.head } }, null, 2) + '\n');
        return;
      }
      const letter = { added: 'A', modified: 'M', deleted: 'D' } as const;
      if (v.short) {
        const rows = new Map<string, [string, string]>();
        for (const c of s.conflicts) rows.set(c.path, ['U', 'U']);
        for (const c of s.staged) rows.set(c.path, [letter[c.kind], ' ']);
        for (const c of s.unstaged) rows.set(c.path, [rows.get(c.path)?.[0] ?? ' ', letter[c.kind]]);
        for (const p of s.untracked) rows.set(p, ['?', '?']);
        for (const [p, [x, y]] of [...rows].sort(([a], [b]) => (a < b ? -1 : 1))) ctx.out(`${green(ctx.color, x)}${red(ctx.color, y)} ${quotePath(p)}\n`);
        return;
      }
      const h = s.head;
      ctx.out(h.kind === 'branch' ? `On branch ${h.branch}\n` : `HEAD detached at ${h.id.slice(0, 7)}\n`);
      if (!h.id) ctx.out('\nNo commits yet\n');
      const label = { added: 'new file:   ', modified: 'modified:   ', deleted: 'deleted:    ' } as const;
      if (s.conflicts.length) {
        ctx.out('\nUnmerged paths:\n  (fix the conflicts, then "patchwork add <file>" to mark them resolved)\n');
        for (const c of s.conflicts) ctx.out(red(ctx.color, `\tboth modified:   ${quotePath(c.path)}`) + '\n');
      }
      if (s.staged.length) {
        ctx.out('\nChanges to be committed:\n  (use "patchwork restore --staged <file>…" to unstage)\n');
        for (const c of s.staged) ctx.out(green(ctx.color, `\t${label[c.kind]}${quotePath(c.path)}`) + '\n');
      }
      if (s.unstaged.length) {
        ctx.out('\nChanges not staged for commit:\n  (use "patchwork add <file>…" to stage, "patchwork restore <file>…" to discard)\n');
        for (const c of s.unstaged) ctx.out(red(ctx.color, `\t${label[c.kind]}${quotePath(c.path)}`) + '\n');
      }
      if (s.untracked.length) {
        ctx.out('\nUntracked files:\n  (use "patchwork add <file>…" to include them in what will be committed)\n');
        for (const p of s.untracked) ctx.out(red(ctx.color, `\t${quotePath(p)}`) + '\n');
      }
      if (s.unstorable.length) {
        ctx.out(`\nNot storable (reserved or invalid names, never added):\n`);
        for (const p of s.unstorable) ctx.out(`\t${quotePath(p)}\n`);
      }
      if (!s.conflicts.length && !s.staged.length && !s.unstaged.length && !s.untracked.length) {
        ctx.out(h.id ? '\nnothing to commit, working tree clean\n' : '\nnothing to commit (create files and use "patchwork add" to track them)\n');
      }
    },
  },
  {
    name: 'diff',
    summary: 'Show changes as a unified diff.',
    usage: 'diff [--staged] [<rev> [<rev>]] [-- <path>…]',
    help: `  (no revision)     work tree against the staging area
  --staged, --cached  staging area against HEAD (or against <rev>)
  <rev>             that revision against the work tree (diff HEAD: every uncommitted change)
  <rev1> <rev2>     between two revisions
  --stat            a summary per file, as git's (lines added and deleted)`,
    options: { staged: { type: 'boolean' }, cached: { type: 'boolean' }, stat: { type: 'boolean' } },
    keepDashDash: true,
    async run(ctx, v, args) {
      const repo = await ctx.repo();
      const dash = args.indexOf('--');
      const revs = dash >= 0 ? args.slice(0, dash) : args;
      const paths = dash >= 0 ? args.slice(dash + 1) : [];
      const specs = paths.length ? await specsFrom(ctx, paths) : undefined;
      if (revs.length > 2) throw new UsageError('diff takes at most two revisions.');
      let diffs: FileDiff[];
      if (revs.length === 2) diffs = await diffRevisions(repo, revs[0], revs[1], specs);
      else if (v.staged || v.cached) diffs = await diffStaged(repo, specs, revs[0]);
      else if (revs.length === 1) diffs = await diffWorktreeAgainst(repo, revs[0], specs);
      else diffs = await diffWorktree(repo, specs);
      if (v.stat) ctx.out(formatDiffStat(diffs, statWidth()));
      else printDiff(ctx, diffs);
    },
  },
];
