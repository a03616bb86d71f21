// isomorphic-git side of the benchmark (pure JavaScript, SHA-1 repositories: it has no SHA-256
// support). Same operations and the same shapes as tool-patchwork.ts; one `cache` object per process,
// as a long-lived caller would keep.
import * as fs from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { AUTHOR, EPOCH, idle, runChild, str, strings, timed } from './child';

const cache = {};
let clock = EPOCH;
const author = () => ({ ...AUTHOR, timestamp: clock++, timezoneOffset: 0 });

runChild({
  async 'commit-all'(args) {
    const dir = str(args, 'dir');
    const { ms, value } = await timed(async () => {
      await git.init({ fs, dir, defaultBranch: 'main' });
      await git.add({ fs, dir, filepath: '.', cache, parallel: true });
      const id = await git.commit({ fs, dir, message: 'Import the corpus\n', author: author(), cache });
      return { id };
    });
    return { ms: [ms], info: value };
  },

  async commit(args) {
    const dir = str(args, 'dir');
    // Like `git add -A`: stage modifications and deletions found by a status walk.
    const matrix = await git.statusMatrix({ fs, dir, cache });
    for (const [filepath, , work, stage] of matrix) {
      if (work === 0) await git.remove({ fs, dir, filepath, cache });
      else if (work !== stage) await git.add({ fs, dir, filepath, cache });
    }
    const id = await git.commit({ fs, dir, message: str(args, 'message') + '\n', author: author(), cache });
    return { ms: [], info: { id } };
  },

  async branch(args) {
    await git.branch({ fs, dir: str(args, 'dir'), ref: str(args, 'name'), object: str(args, 'rev') });
    return { ms: [] };
  },

  async status(args) {
    const dir = str(args, 'dir');
    const { ms, value } = await timed(() => git.statusMatrix({ fs, dir, cache }));
    const unstaged = value.filter(([, head, work, stage]) => work !== stage || (head === 1 && work === 0)).length;
    const untracked = value.filter(([, head, , stage]) => head === 0 && stage === 0).length;
    return { ms: [ms], info: { unstaged, untracked } };
  },

  async refresh(args) {
    const dir = str(args, 'dir');
    await git.statusMatrix({ fs, dir, cache });
    await idle(); // saves come seconds after activation: let the warm-up's garbage be collected first
    const ms: number[] = [];
    let seen = 0;
    for (const [i, filepath] of strings(args, 'paths').entries()) {
      fs.appendFileSync(join(dir, filepath), `// saved ${i}\n`);
      const r = await timed(() => git.status({ fs, dir, filepath, cache }));
      ms.push(r.ms);
      if (r.value === '*modified') seen++;
    }
    return { ms, info: { modifiedSeen: seen } };
  },

  async checkout(args) {
    const dir = str(args, 'dir');
    const { ms } = await timed(() => git.checkout({ fs, dir, ref: str(args, 'ref'), cache }));
    return { ms: [ms] };
  },

  async log(args) {
    const dir = str(args, 'dir');
    const { ms, value } = await timed(async () => {
      const entries = await git.log({ fs, dir, ref: 'main', cache });
      let bytes = 0;
      for (const e of entries) bytes += `commit ${e.oid}\nAuthor: ${e.commit.author.name} <${e.commit.author.email}>\n\n${e.commit.message}`.length;
      return { commits: entries.length, bytes };
    });
    return { ms: [ms], info: value };
  },
});
