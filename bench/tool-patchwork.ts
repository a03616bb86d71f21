// Patchwork side of the benchmark: each operation through the engine's public API, in a fresh process
// (like a CLI call), except `refresh`, which runs many saves in one long-lived process as the
// extension does.
import { appendFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Repository, add, checkout, commit, createBranch, gc, status, walkLog } from '../src/engine';
import { formatCommitHeader } from '../src/cli/format';
import { AUTHOR, EPOCH, idle, runChild, str, strings, timed } from './child';

let clock = EPOCH;
const options = { author: AUTHOR, now: () => clock++ };

const open = (dir: string) => Repository.open(dir, options);

runChild({
  /** init + add everything + commit, timed as one. */
  async 'commit-all'(args) {
    const dir = str(args, 'dir');
    const { ms, value } = await timed(async () => {
      const repo = await Repository.init(dir, { user: AUTHOR }, options);
      const added = await add(repo, ['']);
      const c = await commit(repo, { message: 'Import the corpus' });
      return { files: added.added.length, id: c.id };
    });
    return { ms: [ms], info: value };
  },

  /** Setup: add everything and commit (not timed by the parent). */
  async commit(args) {
    const repo = await open(str(args, 'dir'));
    await add(repo, ['']);
    const c = await commit(repo, { message: str(args, 'message') });
    return { ms: [], info: { id: c.id } };
  },

  async branch(args) {
    const repo = await open(str(args, 'dir'));
    await createBranch(repo, str(args, 'name'), str(args, 'rev'));
    return { ms: [] };
  },

  /** Full status from a cold process: open, compare HEAD/index/work tree. */
  async status(args) {
    const dir = str(args, 'dir');
    const { ms, value } = await timed(async () => status(await open(dir)));
    return { ms: [ms], info: { staged: value.staged.length, unstaged: value.unstaged.length, untracked: value.untracked.length } };
  },

  /**
   * The extension's refresh after a save: the repository is open and a full status has run (at
   * activation); then each save of one file is followed by `status(repo, [path])`.
   */
  async refresh(args) {
    const dir = str(args, 'dir');
    const repo = await open(dir);
    await status(repo);
    await idle(); // saves come seconds after activation: let the warm-up's garbage be collected first
    const ms: number[] = [];
    let seen = 0;
    for (const [i, path] of strings(args, 'paths').entries()) {
      appendFileSync(join(dir, path), `// saved ${i}\n`);
      const r = await timed(() => status(repo, [path]));
      ms.push(r.ms);
      if (r.value.unstaged.some((u) => u.path === path)) seen++;
    }
    return { ms, info: { modifiedSeen: seen } };
  },

  async checkout(args) {
    const dir = str(args, 'dir');
    const { ms, value } = await timed(async () => checkout(await open(dir), str(args, 'ref')));
    return { ms: [ms], info: { written: value.written.length, removed: value.removed.length } };
  },

  /** Setup: pack the repository (the served side of the clone rows, as git daemon serves a gc'd repository). */
  async gc(args) {
    const { ms, value } = await timed(async () => gc(await open(str(args, 'dir'))));
    return { ms: [ms], info: { packed: value.packed } };
  },

  /** `patchwork log` of the whole history: walk and format every commit like the CLI does. */
  async log(args) {
    const dir = str(args, 'dir');
    const { ms, value } = await timed(async () => {
      const repo = await open(dir);
      let bytes = 0;
      let n = 0;
      for await (const { id, commit: c } of walkLog(repo)) {
        bytes += formatCommitHeader(id, c, undefined, (s) => s).length;
        n++;
      }
      return { commits: n, bytes };
    });
    return { ms: [ms], info: value };
  },

  /** Setup: make a Patchwork repository out of a git (SHA-256, loose) repository's objects and main. */
  async 'import-git'(args) {
    const gitDir = str(args, 'gitDir');
    const dest = str(args, 'dir');
    const repo = await Repository.init(dest, { user: AUTHOR }, options);
    const list = execFileSync('git', ['--git-dir', gitDir, 'cat-file', '--batch-all-objects', '--batch-check=%(objectname) %(objecttype)'], { encoding: 'utf8' });
    const dirs = { blob: 'blobs', tree: 'trees', commit: 'commits' } as Record<string, string>;
    for (const line of list.trim().split('\n')) {
      const [id, type] = line.split(' ') as [string, string];
      const to = join(repo.patchDir, 'objects', dirs[type]!, id.slice(0, 2));
      mkdirSync(to, { recursive: true });
      copyFileSync(join(gitDir, 'objects', id.slice(0, 2), id.slice(2)), join(to, id.slice(2)));
    }
    const head = execFileSync('git', ['--git-dir', gitDir, 'rev-parse', 'main'], { encoding: 'utf8' }).trim();
    await repo.refs.write('refs/heads/main', head);
    return { ms: [], info: { head } };
  },
});
