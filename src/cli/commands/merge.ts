import {
  ConflictInfo,
  ConflictStyle,
  blame,
  cherryPick,
  merge,
  mergeAbort,
  pickAbort,
  pickContinue,
  PickKind,
  revert,
  stashApply,
  stashDrop,
  stashList,
  stashPop,
  stashPush,
  summaryLine,
  toRepoPath,
  HEADS,
} from '../../engine';
import { CliCommand, CliContext, UsageError, requireArgs, str, yellow } from '../cli';

/** merge, stash, revert, cherry-pick and blame. */

function conflictLine(c: ConflictInfo, theirs: string): string {
  switch (c.kind) {
    case 'content':
    case 'add/add':
      return `CONFLICT (${c.kind}): Merge conflict in ${c.path}`;
    case 'modify/delete': {
      const [deleted, modified] = c.deletedBy === 'ours' ? ['ours', theirs] : [theirs, 'ours'];
      return `CONFLICT (modify/delete): ${c.path} was deleted in ${deleted} and modified in ${modified}; the modified version is left in the work tree.`;
    }
    case 'binary':
      return `CONFLICT (binary): ${c.path} is binary and changed on both sides; ours is left in the work tree.`;
    case 'symlink':
      return `CONFLICT (symlink): ${c.path} changed to different symlinks or file types; ours is left in the work tree.`;
    case 'mode':
      return `CONFLICT (mode): ${c.path} was added with different executable bits; ours is left in the work tree.`;
    case 'file/directory':
      return `CONFLICT (file/directory): a folder is in the way of ${c.path}${c.aside ? `; the file was written to ${c.aside}` : ''}.`;
  }
}

function reportConflicts(ctx: CliContext, conflicts: ConflictInfo[], theirs: string, finish: string): number {
  for (const c of conflicts) ctx.out(conflictLine(c, theirs) + '\n');
  ctx.out(`Automatic merge failed: fix the conflicts, \`patchwork add\` each file, then ${finish}.\n`);
  return 1;
}

function styleOption(v: unknown): ConflictStyle | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  if (s !== 'merge' && s !== 'diff3') throw new UsageError('--conflict takes "merge" or "diff3".');
  return s;
}

function stashIndex(arg: string | undefined): number {
  if (arg === undefined) return 0;
  const m = /^(?:stash@\{(\d+)\}|(\d+))$/.exec(arg);
  if (!m) throw new UsageError(`"${arg}" is not a stash: use a number or stash@{n}.`);
  return Number(m[1] ?? m[2]);
}

function pickCommand(kind: PickKind): CliCommand {
  const verb = kind === 'revert' ? 'Make a commit that undoes the changes of a commit.' : 'Apply the changes of a commit on top of HEAD as a new commit.';
  return {
    name: kind,
    summary: verb,
    usage: `${kind} <rev> | --continue | --abort`,
    help: `Runs a three-way merge like \`merge\`; a clean result is committed at once.${kind === 'cherry-pick' ? ' The original author and message are kept.' : ''}

  --continue          after resolving conflicts (and \`patchwork add\`), commit the result
  --abort             give up and restore exactly the state from before
  --conflict <style>  merge (default) or diff3 (also show the base in conflict markers)`,
    options: { continue: { type: 'boolean' }, abort: { type: 'boolean' }, conflict: { type: 'string' } },
    async run(ctx, v, args) {
      const repo = await ctx.repo();
      if (v.abort || v.continue) {
        if (args.length) throw new UsageError(`--${v.abort ? 'abort' : 'continue'} takes no revision.`);
        if (v.abort) {
          await pickAbort(repo, kind);
          ctx.err(`${kind} aborted.\n`);
          return;
        }
        const r = await pickContinue(repo, kind);
        ctx.out(`[${r.id.slice(0, 7)}] ${summaryLine((await repo.readCommit(r.id)).message)}\n`);
        return;
      }
      if (args.length !== 1) throw new UsageError(`${kind} takes one revision.`);
      const r = kind === 'revert' ? await revert(repo, args[0], { conflictStyle: styleOption(v.conflict) }) : await cherryPick(repo, args[0], { conflictStyle: styleOption(v.conflict) });
      if (r.kind === 'conflicts') return reportConflicts(ctx, r.conflicts, r.picked.slice(0, 7), `\`patchwork ${kind} --continue\` (or \`patchwork ${kind} --abort\`)`);
      ctx.out(`[${r.id.slice(0, 7)}] ${summaryLine((await repo.readCommit(r.id)).message)}\n`);
    },
  };
}

export const mergeCommands: CliCommand[] = [
  {
    name: 'merge',
    summary: 'Join another line of history into the current branch.',
    usage: 'merge [--ff-only | --no-ff] [-m <message>] <rev> | --abort',
    help: `Already up to date, a fast-forward, or a three-way merge committed with two parents. Conflicts are
written into the files between <<<<<<< ours / ======= / >>>>>>> <rev> markers (with ||||||| base too
when merge.conflict_style is "diff3") and listed by \`status\`; fix them, \`patchwork add\` each file and
\`patchwork commit\`. Refuses to start when local changes would be overwritten.

  --abort                       restore exactly the state from before the merge
  --ff-only                     refuse unless a fast-forward is possible
  --no-ff                       make a merge commit even when a fast-forward is possible
  -m, --message <msg>           message of the merge commit
  --conflict <style>            merge (default) or diff3 (overrides merge.conflict_style)
  --allow-unrelated-histories   merge a history that shares no commit with this one`,
    options: {
      abort: { type: 'boolean' },
      'ff-only': { type: 'boolean' },
      'no-ff': { type: 'boolean' },
      message: { type: 'string', short: 'm' },
      conflict: { type: 'string' },
      'allow-unrelated-histories': { type: 'boolean' },
    },
    async run(ctx, v, args) {
      const repo = await ctx.repo();
      if (v.abort) {
        if (args.length) throw new UsageError('--abort takes no revision.');
        await mergeAbort(repo);
        ctx.err('Merge aborted: the index and work tree are back to where they were.\n');
        return;
      }
      if (args.length !== 1) throw new UsageError('merge takes one revision.');
      if (v['ff-only'] && v['no-ff']) throw new UsageError('--ff-only and --no-ff cannot be used together.');
      const rev = args[0];
      const isBranch = !!(await repo.refs.read(HEADS + rev).catch(() => undefined));
      const r = await merge(repo, rev, {
        theirName: rev,
        message: str(v.message) ?? (isBranch ? `Merge branch '${rev}'` : `Merge ${rev}`),
        fastForward: v['ff-only'] ? 'only' : v['no-ff'] ? 'never' : 'auto',
        allowUnrelated: !!v['allow-unrelated-histories'],
        conflictStyle: styleOption(v.conflict),
      });
      switch (r.kind) {
        case 'up-to-date':
          ctx.out('Already up to date.\n');
          return;
        case 'fast-forward': {
          ctx.out(`Updating ${r.from ? r.from.slice(0, 7) : '(none)'}..${r.to.slice(0, 7)}\nFast-forward\n`);
          const n = r.written.length + r.removed.length;
          ctx.out(` ${n} file${n === 1 ? '' : 's'} changed\n`);
          return;
        }
        case 'merged':
          ctx.out(`Merge made with a three-way merge: [${r.id.slice(0, 7)}] ${r.changed.length} file${r.changed.length === 1 ? '' : 's'} changed\n`);
          return;
        case 'conflicts':
          return reportConflicts(ctx, r.conflicts, rev, '`patchwork commit` (or `patchwork merge --abort`)');
      }
    },
  },
  {
    name: 'stash',
    summary: 'Put local changes aside and bring them back later.',
    usage: 'stash [push [-m <message>] [-u]] | list | apply [<n>] | pop [<n>] | drop [<n>]',
    help: `Stashes are stored as commits, so they survive a crash; stash@{0} is the newest.

  push [-m <msg>] [-u]   save staged and unstaged changes to tracked files (-u: untracked files too)
                         and make the files match HEAD again (the default when no subcommand is given)
  list                   list the stashes
  apply [<n>]            merge stash n (default 0) into the work tree; refuses rather than overwrite
                         files with unstaged changes
  pop [<n>]              apply, then drop the stash unless there were conflicts
  drop [<n>]             delete stash n`,
    options: { message: { type: 'string', short: 'm' }, 'include-untracked': { type: 'boolean', short: 'u' }, conflict: { type: 'string' } },
    async run(ctx, v, args) {
      const repo = await ctx.repo();
      const [sub = 'push', ...rest] = args;
      if (sub !== 'push' && (v.message !== undefined || v['include-untracked'])) throw new UsageError('-m and -u go with `stash push`.');
      if (rest.length > 1 || (sub === 'push' && rest.length) || (sub === 'list' && rest.length)) throw new UsageError(`too many arguments for stash ${sub}.`);
      switch (sub) {
        case 'push': {
          const e = await stashPush(repo, { message: str(v.message), includeUntracked: !!v['include-untracked'] });
          ctx.err(`Saved working directory and index state ${e.message}\n`);
          return;
        }
        case 'list':
          for (const e of await stashList(repo)) ctx.out(`${yellow(ctx.color, `stash@{${e.index}}`)}: ${e.message}\n`);
          return;
        case 'apply':
        case 'pop': {
          const n = stashIndex(rest[0]);
          const r = sub === 'pop' ? await stashPop(repo, n, { conflictStyle: styleOption(v.conflict) }) : await stashApply(repo, n, { conflictStyle: styleOption(v.conflict) });
          if (r.conflicts.length) {
            for (const c of r.conflicts) ctx.out(conflictLine(c, `stash@{${n}}`) + '\n');
            ctx.out(`The stash was applied with conflicts${sub === 'pop' ? ' and is kept' : ''}: fix them and \`patchwork add\` each file.\n`);
            return 1;
          }
          ctx.err(`Applied stash@{${n}} (${r.changed.length} file${r.changed.length === 1 ? '' : 's'}).\n`);
          if (r.dropped) ctx.err(`Dropped stash@{${n}} (${r.stash.id.slice(0, 7)}).\n`);
          return;
        }
        case 'drop': {
          const n = stashIndex(rest[0]);
          const e = await stashDrop(repo, n);
          ctx.err(`Dropped stash@{${n}} (${e.id.slice(0, 7)}).\n`);
          return;
        }
        default:
          throw new UsageError(`unknown stash subcommand "${sub}".`);
      }
    },
  },
  pickCommand('revert'),
  pickCommand('cherry-pick'),
  {
    name: 'blame',
    summary: 'Show the commit, author and date that last changed each line of a file.',
    usage: 'blame [<rev>] [--] <file>',
    keepDashDash: true,
    async run(ctx, _v, args) {
      const dash = args.indexOf('--');
      const parts = dash >= 0 ? [...args.slice(0, dash), ...args.slice(dash + 1)] : args;
      requireArgs(parts, 1, 'file to blame');
      if (parts.length > 2) throw new UsageError('blame takes one file (and optionally a revision before it).');
      const [rev, file] = parts.length === 2 ? parts : [undefined, parts[0]];
      const repo = await ctx.repo();
      const r = await blame(repo, toRepoPath(repo.root, ctx.cwd, file), { rev });
      const width = Math.max(1, ...r.lines.map((l) => l.author.name.length));
      const digits = String(r.lines.length).length;
      for (const l of r.lines) {
        ctx.out(`${yellow(ctx.color, l.commit.slice(0, 8))} (${l.author.name.padEnd(width)} ${blameDate(l.author.timestamp, l.author.tzOffset)} ${String(l.line).padStart(digits)}) ${l.text}\n`);
      }
    },
  },
];

/** git blame's date format: "2023-11-14 22:13:20 +0000", in the author's own time zone. */
function blameDate(timestamp: number, tzOffset: number): string {
  const d = new Date((timestamp + tzOffset * 60) * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  const abs = Math.abs(tzOffset);
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${tzOffset < 0 ? '-' : '+'}${p(Math.floor(abs / 60))}${p(abs % 60)}`;
}
