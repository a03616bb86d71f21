import { checkout, createBranch, createTag, deleteBranch, deleteTag, listBranches, listTags, renameBranch, reset, ResetMode, summaryLine } from '../../engine';
import { CliCommand, UsageError, green, requireArgs, str } from '../cli';

export const branchCommands: CliCommand[] = [
  {
    name: 'checkout',
    aliases: ['switch'],
    summary: 'Switch to a branch, or to a tag or commit (detached HEAD).',
    usage: 'checkout [-f] [-b <new-branch>] [<branch|tag|commit>]',
    help: `Refuses to overwrite uncommitted changes or untracked files; local changes to files that are the same in both commits are carried over.

  -b <name>     create a branch at the target (default HEAD) and switch to it
  -f, --force   discard local changes to tracked files`,
    options: { force: { type: 'boolean', short: 'f' }, branch: { type: 'string', short: 'b' } },
    async run(ctx, v, args) {
      if (args.length > 1) throw new UsageError('checkout takes one branch, tag or commit.');
      const repo = await ctx.repo();
      const before = await repo.head();
      const r = await checkout(repo, args[0], { force: !!v.force, newBranch: str(v.branch) });
      const changed = r.written.length + r.removed.length;
      if (changed) ctx.err(`Updated ${changed} file${changed === 1 ? '' : 's'}.\n`);
      if (v.branch) ctx.err(`Switched to a new branch '${r.branch}'\n`);
      else if (r.branch) ctx.err(before.kind === 'branch' && before.branch === r.branch ? `Already on '${r.branch}'\n` : `Switched to branch '${r.branch}'\n`);
      else {
        const c = await repo.readCommit(r.id!);
        ctx.err(`HEAD is now at ${r.id!.slice(0, 7)} ${summaryLine(c.message)} (detached HEAD: commits made here belong to no branch; use "checkout -b <name>" to keep them)\n`);
      }
    },
  },
  {
    name: 'branch',
    summary: 'List, create, delete or rename branches.',
    usage: 'branch [<name> [<start>]] | -d|-D <name> | -m [<old>] <new>',
    help: `  (no argument)      list branches; * marks the current one
  <name> [<start>]   create a branch at <start> (default HEAD) without switching to it
  -d <name>          delete a branch that is merged into HEAD
  -D <name>          delete a branch even if it is not merged
  -m [<old>] <new>   rename a branch (default: the current one)
  -v                 with the list, show each tip's id and summary`,
    options: { delete: { type: 'boolean', short: 'd' }, 'force-delete': { type: 'boolean', short: 'D' }, move: { type: 'boolean', short: 'm' }, verbose: { type: 'boolean', short: 'v' } },
    async run(ctx, v, args) {
      const repo = await ctx.repo();
      if (v.delete || v['force-delete']) {
        requireArgs(args, 1, 'branch name to delete');
        for (const name of args) {
          const r = await deleteBranch(repo, name, { force: !!v['force-delete'] });
          ctx.out(`Deleted branch ${r.name} (was ${r.id.slice(0, 7)}).\n`);
        }
      } else if (v.move) {
        requireArgs(args, 1, 'new branch name');
        const head = await repo.head();
        const [from, to] = args.length === 1 ? [head.kind === 'branch' ? head.branch : '', args[0]] : args;
        if (!from) throw new UsageError('HEAD is detached: name the branch to rename.');
        await renameBranch(repo, from, to);
      } else if (args.length) {
        if (args.length > 2) throw new UsageError('branch takes a name and at most one start point.');
        await createBranch(repo, args[0], args[1]);
      } else {
        const head = await repo.head();
        const rows = (await listBranches(repo)).map((b) => ({ name: b.name, id: b.id, current: b.current }));
        if (head.kind === 'detached') rows.unshift({ name: `(HEAD detached at ${head.id.slice(0, 7)})`, id: head.id, current: true });
        // -v lines the ids up after the longest name, as git does.
        const width = v.verbose ? Math.max(...rows.map((r) => r.name.length)) : 0;
        for (const r of rows) {
          const name = r.name.padEnd(width);
          const extra = v.verbose ? ` ${r.id.slice(0, 7)} ${summaryLine((await repo.readCommit(r.id)).message)}` : '';
          ctx.out(r.current ? `* ${green(ctx.color, name)}${extra}\n` : `  ${name}${extra}\n`);
        }
      }
    },
  },
  {
    name: 'tag',
    summary: 'List, create or delete tags.',
    usage: 'tag [<name> [<rev>]] | -d <name>',
    help: `  (no argument)   list tags
  <name> [<rev>]  tag <rev> (default HEAD)
  -d <name>       delete a tag
  -f              replace an existing tag`,
    options: { delete: { type: 'boolean', short: 'd' }, force: { type: 'boolean', short: 'f' } },
    async run(ctx, v, args) {
      const repo = await ctx.repo();
      if (v.delete) {
        requireArgs(args, 1, 'tag name to delete');
        for (const name of args) {
          const r = await deleteTag(repo, name);
          ctx.out(`Deleted tag '${r.name}' (was ${r.id.slice(0, 7)})\n`);
        }
      } else if (args.length) {
        if (args.length > 2) throw new UsageError('tag takes a name and at most one revision.');
        await createTag(repo, args[0], args[1], { force: !!v.force });
      } else {
        for (const t of await listTags(repo)) ctx.out(`${t.name}\n`);
      }
    },
  },
  {
    name: 'reset',
    summary: 'Move the current branch to a commit; reset the staging area (and with --hard the work tree).',
    usage: 'reset [--soft | --mixed | --hard] [<rev>]',
    help: `  --soft    move the branch only; staged changes and files stay
  --mixed   also make the staging area match <rev> (default); files stay
  --hard    also make tracked files match <rev>; local changes to them are lost, untracked files stay
  <rev>     defaults to HEAD (so "patchwork reset" unstages everything)`,
    options: { soft: { type: 'boolean' }, mixed: { type: 'boolean' }, hard: { type: 'boolean' } },
    async run(ctx, v, args) {
      const modes = (['soft', 'mixed', 'hard'] as ResetMode[]).filter((m) => v[m]);
      if (modes.length > 1) throw new UsageError('choose one of --soft, --mixed and --hard.');
      if (args.length > 1) throw new UsageError('reset takes one revision (paths: use `patchwork restore --staged`).');
      const repo = await ctx.repo();
      const r = await reset(repo, args[0], modes[0] ?? 'mixed');
      if (r.id) ctx.out(`HEAD is now at ${r.id.slice(0, 7)} ${summaryLine((await repo.readCommit(r.id)).message)}\n`);
    },
  },
];
