// The extension's pure parts, without VS Code: incremental status (a save re-checks only its
// path and agrees with a full walk), what the views derive from a snapshot, how watcher events
// are sorted, and that the extension bundle does not contain libp2p.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Repository, add, checkout, commit, merge, status } from '../src/engine';
import { badgeCount, branchTitle, commitPlaceholder, explorerKinds, headName, resourceEntries } from '../src/extension/labels';
import { StatusSnapshot, fullStatus, partialStatus, repoStamp } from '../src/extension/status';
import { classify } from '../src/extension/watchPaths';
import { manyFiles, repositoryWith, writeFiles } from './vscode/fixture';
import { tmp } from './helpers';

async function fixture(files: Record<string, string> = { 'a.txt': 'a\n', 'dir/b.txt': 'b\n', 'dir/c.txt': 'c\n' }): Promise<Repository> {
  const dir = tmp('pw-ext-');
  await repositoryWith(dir, files);
  return Repository.open(dir);
}

/** The parts of a snapshot a full walk and a partial refresh must agree on. */
const view = (s: StatusSnapshot) => ({ staged: s.staged, unstaged: s.unstaged, untracked: s.untracked, conflicts: s.conflicts });

test('a partial refresh of the changed paths agrees with a full walk (edits, new files, deletions, folders)', async () => {
  const repo = await fixture();
  let prev = await fullStatus(repo, { writeStatCache: true });
  const cases: [string, () => void, string[]][] = [
    ['edit', () => writeFileSync(join(repo.root, 'a.txt'), 'changed\n'), ['a.txt']],
    ['new file', () => writeFiles(repo.root, { 'new/x.txt': 'x\n', 'new/y.txt': 'y\n' }), ['new']],
    ['delete tracked', () => rmSync(join(repo.root, 'dir/b.txt')), ['dir/b.txt']],
    ['delete folder', () => rmSync(join(repo.root, 'dir'), { recursive: true }), ['dir']],
    ['edit back', () => writeFileSync(join(repo.root, 'a.txt'), 'a\n'), ['a.txt']],
    ['untracked removed', () => rmSync(join(repo.root, 'new/x.txt')), ['new/x.txt']],
  ];
  for (const [what, change, paths] of cases) {
    change();
    const partial = await partialStatus(repo, prev, paths);
    assert.ok(partial, `${what}: partial refresh possible`);
    assert.deepEqual(view(partial), view(await fullStatus(repo, { writeStatCache: false })), what);
    prev = partial;
  }
  assert.deepEqual(view(prev), { staged: [], unstaged: [{ path: 'dir/b.txt', kind: 'deleted' }, { path: 'dir/c.txt', kind: 'deleted' }], untracked: ['new/y.txt'], conflicts: [] });
});

test('a partial refresh declines when the index or HEAD moved, or .patchignore changed', async () => {
  const repo = await fixture();
  const prev = await fullStatus(repo, { writeStatCache: true });
  writeFileSync(join(repo.root, 'a.txt'), 'staged\n');
  await add(repo, ['a.txt']);
  assert.equal(await partialStatus(repo, prev, ['a.txt']), undefined, 'index moved');
  const again = await fullStatus(repo, { writeStatCache: true });
  await commit(repo, { message: 'moved HEAD' });
  assert.equal(await partialStatus(repo, again, ['a.txt']), undefined, 'HEAD moved');
  const third = await fullStatus(repo, { writeStatCache: true });
  assert.equal(await partialStatus(repo, third, ['.patchignore']), undefined);
  assert.equal(await partialStatus(repo, third, ['']), undefined);
});

test('without writeStatCache (Restricted Mode) a full status never writes the index; with it, stat data is cached once', async () => {
  const repo = await fixture();
  const index = join(repo.patchDir, 'index');
  await new Promise((r) => setTimeout(r, 20));
  // Touch a file: same content, new mtime, so its stat no longer matches the cache.
  writeFileSync(join(repo.root, 'a.txt'), 'a\n');
  const before = statSync(index).mtimeMs;
  const ro = await fullStatus(repo, { writeStatCache: false });
  assert.equal(statSync(index).mtimeMs, before);
  assert.deepEqual(ro.unstaged, []);
  const rw = await fullStatus(repo, { writeStatCache: true });
  assert.notEqual(statSync(index).mtimeMs, before, 'refreshed stat data stored');
  assert.equal(rw.stamp, await repoStamp(repo), 'the snapshot matches the index it wrote');
  const after = statSync(index).mtimeMs;
  await fullStatus(repo, { writeStatCache: true });
  assert.equal(statSync(index).mtimeMs, after, 'nothing left to store');
});

test('snapshot agrees with the engine status; conflicts and the unfinished merge are reported', async () => {
  const repo = await fixture({ 'f.txt': 'base\n' });
  await checkout(repo, undefined, { newBranch: 'side' });
  writeFileSync(join(repo.root, 'f.txt'), 'side\n');
  await commit(repo, { message: 'side', all: true });
  await checkout(repo, 'main');
  writeFileSync(join(repo.root, 'f.txt'), 'main\n');
  await commit(repo, { message: 'main', all: true });
  const r = await merge(repo, 'side');
  assert.equal(r.kind, 'conflicts');
  const s = await fullStatus(repo, { writeStatCache: true });
  const e = await status(repo);
  assert.deepEqual(view(s), { staged: e.staged, unstaged: e.unstaged, untracked: e.untracked, conflicts: e.conflicts });
  assert.deepEqual(s.operation, { kind: 'merge', label: 'side' });
  assert.equal(branchTitle(s), '$(git-merge) main! (Merging)');
  assert.deepEqual(resourceEntries(s).merge, [{ group: 'merge', path: 'f.txt', kind: 'conflict', tooltip: 'Conflict: Both Modified' }]);
});

test('labels: branch title marks, detached HEAD on a tag or commit, placeholder, count badge, Explorer letter priority', async () => {
  const base: StatusSnapshot = {
    head: { kind: 'branch', branch: 'main', id: 'a'.repeat(64) },
    headTags: [],
    staged: [{ path: 'new.txt', kind: 'added' }, { path: 'm.txt', kind: 'modified' }],
    unstaged: [{ path: 'new.txt', kind: 'modified' }, { path: 'gone.txt', kind: 'deleted' }],
    untracked: ['u.txt'],
    conflicts: [],
    unstorable: [],
    operation: undefined,
    stamp: '',
  };
  assert.equal(branchTitle(base), '$(git-branch) main*+');
  assert.equal(branchTitle({ ...base, staged: [], unstaged: [], untracked: [] }), '$(git-branch) main');
  assert.equal(commitPlaceholder(base, 'linux'), "Message (Ctrl+Enter to commit on 'main')");
  assert.equal(commitPlaceholder(base, 'darwin'), "Message (⌘Enter to commit on 'main')");
  const detached: StatusSnapshot = { ...base, head: { kind: 'detached', id: 'b'.repeat(64) } };
  assert.deepEqual(headName(detached), { icon: 'git-commit', name: 'bbbbbbbb' });
  assert.deepEqual(headName({ ...detached, headTags: ['v1.0'] }), { icon: 'tag', name: 'v1.0' });
  assert.equal(badgeCount(base, 'all'), 5);
  assert.equal(badgeCount(base, 'tracked'), 4);
  assert.equal(badgeCount(base, 'off'), 0);
  const g = resourceEntries(base);
  assert.deepEqual(g.index.map((e) => e.kind), ['index-added', 'index-modified']);
  assert.deepEqual(g.workingTree.map((e) => `${e.kind} ${e.path}`), ['deleted gone.txt', 'modified new.txt', 'untracked u.txt']);
  assert.deepEqual(Object.fromEntries(explorerKinds(base)), { 'new.txt': 'index-added', 'm.txt': 'index-modified', 'gone.txt': 'deleted', 'u.txt': 'untracked' });
});

test('watcher events: work-tree paths, .patch state files, and what is ignored', () => {
  const root = '/r';
  assert.deepEqual(classify(root, '/r/src/a.ts'), { kind: 'worktree', path: 'src/a.ts' });
  for (const p of ['/r/.patch/HEAD', '/r/.patch/index', '/r/.patch/refs/heads/main', '/r/.patch/MERGE_HEAD', '/r/.patch/merge-state/x']) {
    assert.deepEqual(classify(root, p), { kind: 'state' }, p);
  }
  for (const p of ['/r/.patch/objects/blobs/ab/cd', '/r/.patch/lock', '/r/.patch/.index.12.1.tmp', '/r', '/elsewhere/x', '/r/a.txt.pw-tmp-1-2']) {
    assert.deepEqual(classify(root, p), { kind: 'ignore' }, p);
  }
  assert.deepEqual(classify(root, '/r/.patch'), { kind: 'full' });
  assert.deepEqual(classify(root, '/r/sub/.patchignore'), { kind: 'full' });
  assert.deepEqual(classify(root, '/r/..notes'), { kind: 'worktree', path: '..notes' });
});

test('refresh cost on 3000 files: full walk vs the partial refresh a save triggers', async (t) => {
  const repo = await fixture(manyFiles(3000));
  await fullStatus(repo, { writeStatCache: true }); // warm the caches like a running extension
  const time = async (fn: () => Promise<unknown>, n = 7) => {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      await fn();
      xs.push(performance.now() - s);
    }
    return xs.sort((a, b) => a - b)[Math.floor(n / 2)];
  };
  const full = await time(() => fullStatus(repo, { writeStatCache: true }));
  const prev = await fullStatus(repo, { writeStatCache: true });
  writeFileSync(join(repo.root, 'pkg07/file700.ts'), 'changed\n');
  const partial = await time(() => partialStatus(repo, prev, ['pkg07/file700.ts']));
  t.diagnostic(`[measure] 3000 files: full refresh ${full.toFixed(1)} ms, partial (one saved file) ${partial.toFixed(2)} ms, ratio ${(full / partial).toFixed(0)}x`);
  assert.ok(partial < full, 'a partial refresh is cheaper than a full walk');
  const s = await partialStatus(repo, prev, ['pkg07/file700.ts']);
  assert.deepEqual(s?.unstaged, [{ path: 'pkg07/file700.ts', kind: 'modified' }]);
});

test('the extension bundle does not contain libp2p (activation must not load it)', () => {
  const bundle = join(__dirname, '..', 'extension.js');
  assert.ok(existsSync(bundle), `${bundle} is built first`);
  const text = readFileSync(bundle, 'utf8');
  assert.ok(!/libp2p|@chainsafe|multiaddr/.test(text), 'libp2p code found in out/extension.js');
});
