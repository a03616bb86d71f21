import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PatchworkError, commit, diffCommit, logGraph, readMergeMessage, resolveRevision, summaryLine, toRepoPath, walkLog } from '../../engine';
import { CliCommand, UsageError, str, yellow } from '../cli';
import { decorations, formatCommitHeader, formatDiffStat, statWidth } from '../format';
import { printDiff } from './files';

export const historyCommands: CliCommand[] = [
  {
    name: 'commit',
    summary: 'Record the staged changes as a new commit.',
    usage: 'commit -m <message> [-a] [--allow-empty]   (or: commit "<message>")',
    help: `  -m, --message <msg>   the commit message (repeat -m for more paragraphs)
  -a, --all             first stage every change to tracked files
  --allow-empty         allow a commit that changes nothing`,
    options: { message: { type: 'string', short: 'm', multiple: true }, all: { type: 'boolean', short: 'a' }, 'allow-empty': { type: 'boolean' } },
    async run(ctx, v, args) {
      const parts = (v.message as string[] | undefined) ?? [];
      if (!parts.length && args.length === 1) parts.push(args[0]);
      else if (args.length) throw new UsageError('give the message with -m "…" (paths are not accepted by commit).');
      if (!parts.length) {
        // Finishing a merge, cherry-pick or revert: its prepared message (.patch/MERGE_MSG).
        const prepared = await readMergeMessage(await ctx.repo());
        if (prepared?.trim()) parts.push(prepared);
      }
      if (!parts.length) throw new UsageError('missing commit message: use -m "<message>".');
      const r = await commit(await ctx.repo(), { message: parts.join('\n\n'), all: !!v.all, allowEmpty: !!v['allow-empty'] });
      const where = r.branch ?? 'detached HEAD';
      ctx.out(`[${where}${r.parents.length ? '' : ' (root-commit)'} ${r.id.slice(0, 7)}] ${r.summary}\n`);
    },
  },
  {
    name: 'log',
    summary: 'Show commit history.',
    usage: 'log [--oneline] [--graph] [-p] [--stat] [-n <count>] [<rev>…] [-- <path>]',
    help: `  --oneline        one line per commit: short id and summary
  --graph          draw the commit graph next to the commits (in topological order)
  -p, --patch      each commit's diff against its first parent (none for merges)
  --stat           each commit's diffstat (none for merges)
  -n <count>       show at most this many commits
  <rev>            start from these revisions instead of HEAD; a..b shows what b has that a has not
  -- <path>        only commits that change this file or folder`,
    options: { oneline: { type: 'boolean' }, graph: { type: 'boolean' }, patch: { type: 'boolean', short: 'p' }, stat: { type: 'boolean' }, 'max-count': { type: 'string', short: 'n' } },
    keepDashDash: true,
    async run(ctx, v, args) {
      const repo = await ctx.repo();
      const dash = args.indexOf('--');
      let revs = dash >= 0 ? args.slice(0, dash) : args;
      let paths = dash >= 0 ? args.slice(dash + 1) : [];
      if (dash < 0 && revs.length) {
        // git's rule of thumb: a trailing argument that is not a revision but an existing path is a path.
        const last = revs[revs.length - 1];
        if (!(await resolveRevision(repo, last.split('..').pop() || 'HEAD').then(() => true, () => false))) {
          const rel = toRepoPath(repo.root, ctx.cwd, last);
          const known = existsSync(join(repo.root, rel)) || (await repo.readIndex()).entries.has(rel);
          if (!known) await resolveRevision(repo, last); // throws: unknown revision
          paths = [last];
          revs = revs.slice(0, -1);
        }
      }
      if (paths.length > 1) throw new UsageError('log follows one path at a time.');
      const limit = v['max-count'] !== undefined ? Number(v['max-count']) : undefined;
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new UsageError('-n needs a whole number.');
      const include: string[] = [];
      const exclude: string[] = [];
      for (const r of revs) {
        const m = /^(.*)\.\.(.*)$/.exec(r);
        if (m) {
          exclude.push(await resolveRevision(repo, m[1] || 'HEAD'));
          include.push(m[2] || 'HEAD');
        } else include.push(r);
      }
      const head = await repo.head();
      if (!head.id && !include.length) {
        throw new PatchworkError('UNBORN_HEAD', `Your current branch '${head.kind === 'branch' ? head.branch : ''}' does not have any commits yet.`);
      }
      const decor = await decorations(repo);
      const path = paths.length ? toRepoPath(repo.root, ctx.cwd, paths[0]) : undefined;
      if (v.graph) {
        if (path !== undefined) throw new UsageError('log --graph does not follow a path; leave out the path or --graph.');
        if (v.patch || v.stat) throw new UsageError('log --graph does not show diffs; leave out -p/--stat or --graph.');
        for (const row of await logGraph(repo, { revs: include, exclude, limit })) {
          if (!row.id || !row.commit) ctx.out(`${row.graph}\n`);
          else if (v.oneline) {
            const names = decor.get(row.id);
            ctx.out(`${row.graph} ${yellow(ctx.color, row.id.slice(0, 7))}${names ? ` (${names.join(', ')})` : ''} ${summaryLine(row.commit.message)}\n`);
          } else {
            const text = formatCommitHeader(row.id, row.commit, decor.get(row.id), (s) => yellow(ctx.color, s)).replace(/\n$/, '').split('\n');
            ctx.out(text.map((l, i) => `${i === 0 ? row.graph : row.padding}${l ? ` ${l}` : ''}`.replace(/\s+$/, '')).join('\n') + '\n');
          }
        }
        return;
      }
      let first = true;
      for await (const { id, commit: c } of walkLog(repo, { revs: include, exclude, limit, path })) {
        const names = decor.get(id);
        if (v.oneline) {
          ctx.out(`${yellow(ctx.color, id.slice(0, 7))}${names ? ` (${names.join(', ')})` : ''} ${summaryLine(c.message)}\n`);
        } else {
          ctx.out(`${first ? '' : '\n'}${formatCommitHeader(id, c, names, (s) => yellow(ctx.color, s))}`);
        }
        first = false;
        // -p / --stat as git lays them out; a merge shows neither (as git's log without -m).
        if ((!v.patch && !v.stat) || c.parents.length > 1) continue;
        const diffs = await diffCommit(repo, id, path === undefined ? undefined : [path]);
        if (!diffs.length) continue;
        if (!v.oneline) ctx.out(v.patch && v.stat ? '---\n' : '\n');
        if (v.stat) ctx.out(formatDiffStat(diffs, statWidth()) + (v.patch ? '\n' : ''));
        if (v.patch) printDiff(ctx, diffs);
      }
    },
  },
  {
    name: 'show',
    summary: 'Show a commit and its changes against its first parent.',
    usage: 'show [<rev>]',
    options: { stat: { type: 'boolean' } },
    async run(ctx, v, args) {
      if (args.length > 1) throw new UsageError('show takes one revision.');
      const repo = await ctx.repo();
      const id = await resolveRevision(repo, str(args[0]) ?? 'HEAD');
      const c = await repo.readCommit(id);
      ctx.out(formatCommitHeader(id, c, (await decorations(repo)).get(id), (s) => yellow(ctx.color, s)));
      const diffs = await diffCommit(repo, id);
      if (v.stat) ctx.out(`${diffs.length ? '\n' : ''}${formatDiffStat(diffs, statWidth())}`);
      else {
        if (diffs.length) ctx.out('\n');
        printDiff(ctx, diffs);
      }
    },
  },
];
