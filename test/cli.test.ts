import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, readlinkSync, renameSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fixedEnv, ok, pw, read, snapshot, tmp, write } from './helpers';

fixedEnv();

async function repoWith(files: Record<string, string>, message = 'initial'): Promise<string> {
  const dir = tmp();
  await ok(dir, 'init', 'test');
  for (const [p, c] of Object.entries(files)) write(dir, p, c);
  await ok(dir, 'add', '.');
  await ok(dir, 'commit', '-m', message);
  return dir;
}

test("the seed's single-peer flow: init alice, add src/main.rs, commit, checkout", async () => {
  const dir = tmp();
  const init = await ok(dir, 'init', 'alice');
  assert.match(init.out, /Initialized empty Patchwork repository "alice"/);
  write(dir, 'src/main.rs', 'fn main() { println!("Hello from Patchwork"); }\n');
  await ok(dir, 'add', 'src/main.rs');
  const c1 = await ok(dir, 'commit', 'Add initial main file');
  assert.match(c1.out, /^\[main \(root-commit\) [0-9a-f]{7}\] Add initial main file/);
  write(dir, 'src/main.rs', 'fn main() { println!("Hello from Patchwork"); }\n// change by peer 2\n');
  await ok(dir, 'add', 'src/main.rs');
  await ok(dir, 'commit', 'Update main file from peer 2');
  await ok(dir, 'checkout', 'HEAD~1');
  assert.equal(read(dir, 'src/main.rs'), 'fn main() { println!("Hello from Patchwork"); }\n');
  await ok(dir, 'checkout', 'main');
  assert.match(read(dir, 'src/main.rs'), /change by peer 2/);
  assert.equal((await ok(dir, 'log', '--oneline')).out.split('\n').filter(Boolean).length, 2);
});

test('every command works from a subfolder, with paths relative to it', async () => {
  const dir = await repoWith({ 'a/b/c.txt': 'one\n', 'top.txt': 'top\n' });
  write(dir, 'a/b/c.txt', 'two\n');
  write(dir, 'a/b/new.txt', 'new\n');
  const sub = join(dir, 'a/b');
  await ok(sub, 'add', 'new.txt', 'c.txt');
  const s = JSON.parse((await ok(sub, 'status', '--json')).out);
  assert.deepEqual(s.staged, [
    { path: 'a/b/c.txt', kind: 'modified' },
    { path: 'a/b/new.txt', kind: 'added' },
  ]);
  await ok(sub, 'commit', '-m', 'from a subfolder');
  assert.match((await ok(sub, 'log', '-n', '1', '--oneline')).out, /from a subfolder/);
});

test('init refuses inside an existing repository, and outside one commands say "not a repository"', async () => {
  const dir = await repoWith({ 'x.txt': 'x\n' });
  mkdirSync(join(dir, 'sub'));
  for (const where of [dir, join(dir, 'sub')]) {
    const r = await pw(where, 'init');
    assert.equal(r.code, 1);
    assert.match(r.err, /already/);
    assert.doesNotMatch(r.err, /\n\s+at /); // no stack trace
  }
  const outside = tmp();
  const r = await pw(outside, 'status');
  assert.equal(r.code, 1);
  assert.match(r.err, /^patchwork: error: Not a Patchwork repository/);
  assert.match(r.err, /hint: Run `patchwork init`/);
});

test('status lists staged, unstaged, untracked and deleted files; --json for scripts', async () => {
  const dir = await repoWith({ 'keep.txt': 'k\n', 'mod.txt': 'm\n', 'del.txt': 'd\n', 'staged.txt': 's\n' });
  write(dir, 'mod.txt', 'm2\n');
  unlinkSync(join(dir, 'del.txt'));
  write(dir, 'staged.txt', 's2\n');
  await ok(dir, 'add', 'staged.txt');
  write(dir, 'new.txt', 'n\n');
  const s = JSON.parse((await ok(dir, 'status', '--json')).out);
  assert.deepEqual(s.staged, [{ path: 'staged.txt', kind: 'modified' }]);
  assert.deepEqual(s.unstaged, [
    { path: 'del.txt', kind: 'deleted' },
    { path: 'mod.txt', kind: 'modified' },
  ]);
  assert.deepEqual(s.untracked, ['new.txt']);
  assert.equal(s.head.branch, 'main');
  const short = (await ok(dir, 'status', '-s')).out;
  assert.equal(short, ' D del.txt\n M mod.txt\n?? new.txt\nM  staged.txt\n');
  const long = (await ok(dir, 'status')).out;
  assert.match(long, /Changes to be committed:[\s\S]*modified: +staged\.txt/);
  assert.match(long, /Changes not staged for commit:[\s\S]*deleted: +del\.txt/);
  assert.match(long, /Untracked files:[\s\S]*new\.txt/);
});

test('status does not re-hash files whose stat is unchanged, but sees a same-size edit', async () => {
  const dir = await repoWith({ 'f.txt': 'aaaa\n' });
  assert.match((await ok(dir, 'status')).out, /working tree clean/);
  write(dir, 'f.txt', 'bbbb\n'); // same size, new content
  assert.deepEqual(JSON.parse((await ok(dir, 'status', '--json')).out).unstaged, [{ path: 'f.txt', kind: 'modified' }]);
});

test('.patchignore uses gitignore rules; .patch is never added; add -f adds an ignored file', async () => {
  const dir = tmp();
  await ok(dir, 'init');
  write(dir, '.patchignore', '*.log\nbuild/\n!keep.log\n');
  write(dir, 'app.log', 'x');
  write(dir, 'keep.log', 'x');
  write(dir, 'build/out.js', 'x');
  write(dir, 'sub/.patchignore', 'local.txt\n');
  write(dir, 'sub/local.txt', 'x');
  write(dir, 'sub/other.txt', 'x');
  await ok(dir, 'add', '.');
  const s = JSON.parse((await ok(dir, 'status', '--json')).out);
  assert.deepEqual(s.staged.map((c: { path: string }) => c.path), ['.patchignore', 'keep.log', 'sub/.patchignore', 'sub/other.txt']);
  const r = await pw(dir, 'add', 'app.log');
  assert.equal(r.code, 1);
  assert.match(r.err, /ignored by a \.patchignore/);
  await ok(dir, 'add', '-f', 'app.log');
  assert.ok(JSON.parse((await ok(dir, 'status', '--json')).out).staged.some((c: { path: string }) => c.path === 'app.log'));
});

test('symlinks are stored as links and never followed; the executable bit is kept; empty folders are not tracked', async () => {
  const dir = tmp();
  await ok(dir, 'init');
  write(dir, 'real.txt', 'real\n');
  write(dir, 'run.sh', '#!/bin/sh\n');
  chmodSync(join(dir, 'run.sh'), 0o755);
  symlinkSync('real.txt', join(dir, 'link'));
  mkdirSync(join(dir, 'outside-target'));
  symlinkSync('outside-target', join(dir, 'dirlink'));
  mkdirSync(join(dir, 'empty-folder'));
  await ok(dir, 'add', '.');
  await ok(dir, 'commit', '-m', 'links');
  const files = (await ok(dir, 'show', '--stat')).out;
  assert.match(files, / dirlink +\| 1 \+\n/);
  assert.match(files, / link +\| 1 \+\n/);
  assert.doesNotMatch(files, /empty-folder/);
  // Remove everything and check out again.
  await ok(dir, 'checkout', '--force', 'HEAD');
  unlinkSync(join(dir, 'link'));
  unlinkSync(join(dir, 'run.sh'));
  await ok(dir, 'restore', 'link', 'run.sh');
  assert.ok(lstatSync(join(dir, 'link')).isSymbolicLink());
  assert.equal(readlinkSync(join(dir, 'link')), 'real.txt');
  assert.ok(statSync(join(dir, 'run.sh')).mode & 0o100);
  chmodSync(join(dir, 'run.sh'), 0o644);
  assert.match((await ok(dir, 'diff')).out, /old mode 100755\nnew mode 100644/);
});

test('commit refuses an empty commit unless --allow-empty, and an empty message', async () => {
  const dir = await repoWith({ 'a.txt': 'a\n' });
  const r = await pw(dir, 'commit', '-m', 'nothing');
  assert.equal(r.code, 1);
  assert.match(r.err, /Nothing to commit/);
  await ok(dir, 'commit', '--allow-empty', '-m', 'empty on purpose');
  const e = await pw(dir, 'commit', '-m', '   ');
  assert.equal(e.code, 1);
  assert.match(e.err, /message is empty/);
  const fresh = tmp();
  await ok(fresh, 'init');
  assert.match((await pw(fresh, 'commit', '-m', 'x')).err, /Nothing to commit/);
});

test('commit -a stages changes to tracked files (not untracked ones)', async () => {
  const dir = await repoWith({ 'a.txt': 'a\n', 'b.txt': 'b\n' });
  write(dir, 'a.txt', 'a2\n');
  unlinkSync(join(dir, 'b.txt'));
  write(dir, 'untracked.txt', 'u\n');
  await ok(dir, 'commit', '-a', '-m', 'all');
  const s = JSON.parse((await ok(dir, 'status', '--json')).out);
  assert.deepEqual(s.unstaged, []);
  assert.deepEqual(s.staged, []);
  assert.deepEqual(s.untracked, ['untracked.txt']);
  assert.match((await ok(dir, 'show', '--stat')).out, / a\.txt \| 2 \+-\n b\.txt \| 1 -\n 2 files changed, 1 insertion\(\+\), 2 deletions\(-\)\n/);
});

test('diff: work tree, --staged, between commits, binary files', async () => {
  const dir = await repoWith({ 'a.txt': 'one\ntwo\nthree\n', 'bin.dat': '\0\x01binary' });
  write(dir, 'a.txt', 'one\nTWO\nthree\n');
  const d = (await ok(dir, 'diff')).out;
  assert.equal(
    d.replace(/index [0-9a-f]+\.\.[0-9a-f]+/, 'index X..Y'),
    'diff --git a/a.txt b/a.txt\nindex X..Y 100644\n--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n',
  );
  await ok(dir, 'add', 'a.txt');
  assert.equal((await ok(dir, 'diff')).out, '');
  assert.match((await ok(dir, 'diff', '--staged')).out, /\+TWO/);
  write(dir, 'bin.dat', '\0\x02other');
  await ok(dir, 'commit', '-a', '-m', 'second');
  const between = (await ok(dir, 'diff', 'HEAD~1', 'HEAD')).out;
  assert.match(between, /Binary files a\/bin\.dat and b\/bin\.dat differ/);
  assert.match(between, /-two\n\+TWO/);
  assert.match((await ok(dir, 'diff', 'HEAD~1', 'HEAD', '--', 'a.txt')).out, /^diff --git a\/a\.txt/);
  assert.doesNotMatch((await ok(dir, 'diff', 'HEAD~1', 'HEAD', '--', 'a.txt')).out, /bin\.dat/);
});

test('log: -n, --oneline, path filter, decorations; show prints the commit and its diff', async () => {
  const dir = await repoWith({ 'a.txt': '1\n', 'b.txt': '1\n' }, 'first');
  write(dir, 'a.txt', '2\n');
  await ok(dir, 'commit', '-am', 'touch a');
  write(dir, 'b.txt', '2\n');
  await ok(dir, 'commit', '-am', 'touch b');
  await ok(dir, 'tag', 'v1');
  const one = (await ok(dir, 'log', '--oneline')).out.trim().split('\n');
  assert.equal(one.length, 3);
  assert.match(one[0], /^[0-9a-f]{7} \(HEAD -> main, tag: v1\) touch b$/);
  assert.equal((await ok(dir, 'log', '-n', '1', '--oneline')).out.trim().split('\n').length, 1);
  const onlyA = (await ok(dir, 'log', '--oneline', '--', 'a.txt')).out;
  assert.match(onlyA, /touch a/);
  assert.doesNotMatch(onlyA, /touch b/);
  assert.match(onlyA, /first/);
  const full = (await ok(dir, 'log', '-n', '1')).out;
  assert.match(full, /^commit [0-9a-f]{64} \(HEAD -> main, tag: v1\)\nAuthor: Alice Example <alice@example\.org>\nDate: {3}Tue Nov 14 22:13:20 2023 \+0000\n\n {4}touch b\n$/);
  const show = (await ok(dir, 'show', 'HEAD~1')).out;
  assert.match(show, /touch a[\s\S]*diff --git a\/a\.txt b\/a\.txt[\s\S]*-1\n\+2/);
});

test('revisions: full id, unique prefix, branch, tag, HEAD~n; an unknown one is an error', async () => {
  const dir = await repoWith({ 'a.txt': '1\n' }, 'first');
  for (let i = 2; i <= 4; i++) {
    write(dir, 'a.txt', `${i}\n`);
    await ok(dir, 'commit', '-am', `c${i}`);
  }
  const log = (await ok(dir, 'log', '--oneline')).out.trim().split('\n').map((l) => l.split(' ')[0]);
  const full = (await ok(dir, 'log', '-n', '1')).out.split('\n')[0].split(' ')[1];
  assert.match((await ok(dir, 'show', '--stat', full)).out, /c4/);
  assert.match((await ok(dir, 'show', '--stat', log[1])).out, /c3/);
  assert.match((await ok(dir, 'show', '--stat', 'HEAD~3')).out, /first/);
  assert.match((await ok(dir, 'show', '--stat', 'main^')).out, /c3/);
  await ok(dir, 'tag', 'old', 'HEAD~2');
  assert.match((await ok(dir, 'show', '--stat', 'old')).out, /c2/);
  const bad = await pw(dir, 'show', 'nope');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /Unknown revision "nope"/);
  const past = await pw(dir, 'show', 'HEAD~9');
  assert.match(past.err, /past the start of history/);
});

test('branch: list, create, delete (merged or -D), rename; tag: list, create, delete', async () => {
  const dir = await repoWith({ 'a.txt': '1\n' });
  await ok(dir, 'branch', 'feature');
  await ok(dir, 'branch', 'topic/x');
  assert.equal((await ok(dir, 'branch')).out, '  feature\n* main\n  topic/x\n');
  await ok(dir, 'checkout', 'feature');
  write(dir, 'a.txt', '2\n');
  await ok(dir, 'commit', '-am', 'on feature');
  await ok(dir, 'checkout', 'main');
  const refused = await pw(dir, 'branch', '-d', 'feature');
  assert.equal(refused.code, 1);
  assert.match(refused.err, /not merged/);
  const current = await pw(dir, 'branch', '-d', 'main');
  assert.match(current.err, /checked out/);
  await ok(dir, 'branch', '-d', 'topic/x');
  await ok(dir, 'branch', '-m', 'feature', 'renamed');
  await ok(dir, 'branch', '-D', 'renamed');
  await ok(dir, 'branch', '-m', 'trunk');
  assert.equal((await ok(dir, 'branch')).out, '* trunk\n');
  const invalid = await pw(dir, 'branch', 'bad..name');
  assert.match(invalid.err, /not a valid branch name/);
  await ok(dir, 'tag', 'v1');
  await ok(dir, 'tag', 'v0', 'HEAD');
  assert.equal((await ok(dir, 'tag')).out, 'v0\nv1\n');
  assert.match((await pw(dir, 'tag', 'v1')).err, /already exists/);
  await ok(dir, 'tag', '-d', 'v0');
  assert.equal((await ok(dir, 'tag')).out, 'v1\n');
  assert.match((await pw(dir, 'tag', '-d', 'v0')).err, /no tag named "v0"/);
});

test('checkout refuses to overwrite local changes or untracked files, carries unrelated changes, --force discards', async () => {
  const dir = await repoWith({ 'shared.txt': 'base\n', 'other.txt': 'o\n' });
  await ok(dir, 'checkout', '-b', 'feature');
  write(dir, 'shared.txt', 'feature\n');
  write(dir, 'added.txt', 'from feature\n');
  await ok(dir, 'add', '.');
  await ok(dir, 'commit', '-m', 'feature work');
  await ok(dir, 'checkout', 'main');
  assert.equal(read(dir, 'shared.txt'), 'base\n');
  assert.ok(!existsSync(join(dir, 'added.txt')));

  write(dir, 'shared.txt', 'local edit\n');
  const before = snapshot(dir);
  const r = await pw(dir, 'checkout', 'feature');
  assert.equal(r.code, 1);
  assert.match(r.err, /local changes would be overwritten: shared\.txt \(modified\)/);
  assert.deepEqual(snapshot(dir), before, 'a refused checkout changes nothing');

  write(dir, 'shared.txt', 'base\n');
  write(dir, 'added.txt', 'untracked in the way\n');
  const u = await pw(dir, 'checkout', 'feature');
  assert.match(u.err, /added\.txt \(untracked file\)/);

  unlinkSync(join(dir, 'added.txt'));
  write(dir, 'other.txt', 'carried along\n');
  await ok(dir, 'checkout', 'feature');
  assert.equal(read(dir, 'other.txt'), 'carried along\n');
  assert.equal(read(dir, 'shared.txt'), 'feature\n');

  write(dir, 'shared.txt', 'doomed\n');
  await ok(dir, 'checkout', '--force', 'main');
  assert.equal(read(dir, 'shared.txt'), 'base\n');
  assert.equal(read(dir, 'other.txt'), 'o\n');
  assert.ok(!existsSync(join(dir, 'added.txt')));
});

test('checkout of a tag or commit detaches HEAD; checkout -b keeps the commits', async () => {
  const dir = await repoWith({ 'a.txt': '1\n' });
  await ok(dir, 'tag', 'v1');
  write(dir, 'a.txt', '2\n');
  await ok(dir, 'commit', '-am', 'two');
  const r = await ok(dir, 'checkout', 'v1');
  assert.match(r.err, /detached HEAD/);
  assert.match((await ok(dir, 'status')).out, /^HEAD detached at [0-9a-f]{7}/);
  write(dir, 'a.txt', 'detached work\n');
  await ok(dir, 'commit', '-am', 'detached');
  await ok(dir, 'checkout', '-b', 'rescued');
  assert.match((await ok(dir, 'log', '--oneline', '-n', '1')).out, /\(HEAD -> rescued\) detached/);
});

test('checkout replaces a file by a folder and a folder by a file', async () => {
  const dir = await repoWith({ 'thing': 'a file\n' });
  await ok(dir, 'checkout', '-b', 'dir');
  await ok(dir, 'rm', 'thing');
  write(dir, 'thing/inside.txt', 'now a folder\n');
  await ok(dir, 'add', '.');
  await ok(dir, 'commit', '-m', 'file to folder');
  await ok(dir, 'checkout', 'main');
  assert.equal(read(dir, 'thing'), 'a file\n');
  await ok(dir, 'checkout', 'dir');
  assert.equal(read(dir, 'thing/inside.txt'), 'now a folder\n');
});

test('reset --soft, --mixed and --hard', async () => {
  const dir = await repoWith({ 'a.txt': '1\n' }, 'one');
  write(dir, 'a.txt', '2\n');
  await ok(dir, 'commit', '-am', 'two');
  await ok(dir, 'reset', '--soft', 'HEAD~1');
  let s = JSON.parse((await ok(dir, 'status', '--json')).out);
  assert.deepEqual(s.staged, [{ path: 'a.txt', kind: 'modified' }]);
  await ok(dir, 'reset');
  s = JSON.parse((await ok(dir, 'status', '--json')).out);
  assert.deepEqual(s.staged, []);
  assert.deepEqual(s.unstaged, [{ path: 'a.txt', kind: 'modified' }]);
  write(dir, 'untracked.txt', 'stays\n');
  await ok(dir, 'reset', '--hard');
  assert.equal(read(dir, 'a.txt'), '1\n');
  assert.equal(read(dir, 'untracked.txt'), 'stays\n');
  assert.equal((await ok(dir, 'log', '--oneline')).out.trim().split('\n').length, 1);
});

test('restore discards work-tree edits; restore --staged unstages; rm and rm --cached', async () => {
  const dir = await repoWith({ 'a.txt': '1\n', 'b.txt': 'b\n', 'd/c.txt': 'c\n' });
  write(dir, 'a.txt', 'edited\n');
  await ok(dir, 'add', 'a.txt');
  await ok(dir, 'restore', '--staged', 'a.txt');
  assert.equal(read(dir, 'a.txt'), 'edited\n');
  assert.deepEqual(JSON.parse((await ok(dir, 'status', '--json')).out).staged, []);
  await ok(dir, 'restore', 'a.txt');
  assert.equal(read(dir, 'a.txt'), '1\n');
  assert.match((await pw(dir, 'restore', 'nope.txt')).err, /did not match any tracked file/);

  write(dir, 'b.txt', 'uncommitted\n');
  const refused = await pw(dir, 'rm', 'b.txt');
  assert.equal(refused.code, 1);
  assert.match(refused.err, /changes that are not committed/);
  assert.equal(read(dir, 'b.txt'), 'uncommitted\n');
  await ok(dir, 'rm', '--cached', 'b.txt');
  assert.equal(read(dir, 'b.txt'), 'uncommitted\n');
  assert.deepEqual(JSON.parse((await ok(dir, 'status', '--json')).out).untracked, ['b.txt']);
  assert.match((await pw(dir, 'rm', 'd')).err, /without -r/);
  await ok(dir, 'rm', '-r', 'd');
  assert.ok(!existsSync(join(dir, 'd')));
});

test('every command has --help; unknown commands and options are usage errors', async () => {
  const dir = tmp();
  for (const cmd of ['init', 'add', 'rm', 'restore', 'commit', 'status', 'diff', 'log', 'show', 'checkout', 'branch', 'tag', 'reset', 'fsck', 'config']) {
    const r = await ok(dir, cmd, '--help');
    assert.match(r.out, new RegExp(`^usage: patchwork ${cmd}`), cmd);
  }
  const top = await pw(dir);
  assert.match(top.out, /Commands:/);
  assert.equal((await pw(dir, 'frobnicate')).code, 2);
  const bad = await pw(dir, 'status', '--bogus');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /Unknown option '--bogus'/);
});

test('config reads and sets values; the author is used for commits', async () => {
  const dir = tmp();
  await ok(dir, 'init', 'cfg');
  await ok(dir, 'config', 'user.name', 'Config Person');
  assert.equal((await ok(dir, 'config', 'user.name')).out, 'Config Person\n');
  assert.equal((await ok(dir, 'config', 'repository.name')).out, 'cfg\n');
  assert.match((await pw(dir, 'config', 'repository.id', 'x')).err, /cannot be changed/);
  const saved = process.env.PATCHWORK_AUTHOR_NAME;
  delete process.env.PATCHWORK_AUTHOR_NAME;
  try {
    write(dir, 'f', 'x');
    await ok(dir, 'add', 'f');
    await ok(dir, 'commit', '-m', 'by config');
    assert.match((await ok(dir, 'log')).out, /Author: Config Person </);
  } finally {
    process.env.PATCHWORK_AUTHOR_NAME = saved;
  }
});

test('a nested repository is not part of the enclosing one', async () => {
  const dir = await repoWith({ 'top.txt': 'top\n' });
  // init refuses inside a repository, but one can be moved in.
  const elsewhere = tmp();
  await ok(elsewhere, 'init', 'inner');
  mkdirSync(join(dir, 'vendor'));
  const inner = join(dir, 'vendor/lib');
  renameSync(elsewhere, inner);
  write(inner, 'inner.txt', 'inner\n');
  const s = JSON.parse((await ok(dir, 'status', '--json')).out);
  assert.deepEqual(s.untracked, []);
  assert.deepEqual(s.unstorable, []);
  await ok(dir, 'add', '.');
  assert.deepEqual(JSON.parse((await ok(dir, 'status', '--json')).out).staged, []);
  // Inside the nested one, its own repository is found first.
  assert.deepEqual(JSON.parse((await ok(inner, 'status', '--json')).out).untracked, ['inner.txt']);
});

test('add -A stages the whole work tree from a subfolder; add -u only what is tracked; both together are refused', async () => {
  const dir = await repoWith({ 'src/a.txt': 'a\n', 'docs/b.txt': 'b\n', 'gone.txt': 'gone\n' });
  write(dir, 'src/a.txt', 'a changed\n');
  write(dir, 'docs/new.txt', 'new\n');
  unlinkSync(join(dir, 'gone.txt'));
  const staged = async () => JSON.parse((await ok(dir, 'status', '--json')).out).staged.map((c: { path: string; kind: string }) => `${c.kind} ${c.path}`).sort();
  await ok(join(dir, 'src'), 'add', '-u');
  assert.deepEqual(await staged(), ['deleted gone.txt', 'modified src/a.txt']);
  await ok(join(dir, 'src'), 'add', '-A');
  assert.deepEqual(await staged(), ['added docs/new.txt', 'deleted gone.txt', 'modified src/a.txt']);
  const both = await pw(dir, 'add', '-A', '-u');
  assert.equal(both.code, 2);
  assert.match(both.err, /-A and -u cannot be used together/);
  assert.equal((await pw(dir, 'add')).code, 2, 'no paths and no -A/-u is still a usage error');
});

test('branch -v lines the ids up after the longest name, as git does (a detached HEAD included)', async () => {
  const dir = await repoWith({ 'a.txt': 'a\n' }, 'first commit');
  await ok(dir, 'branch', 'a-long-feature');
  const id = (await ok(dir, 'log', '--oneline')).out.slice(0, 7);
  assert.equal((await ok(dir, 'branch', '-v')).out, `  a-long-feature ${id} first commit\n* main           ${id} first commit\n`);
  assert.equal((await ok(dir, 'branch')).out, '  a-long-feature\n* main\n');
  await ok(dir, 'checkout', id);
  assert.equal((await ok(dir, 'branch', '-v')).out, `* (HEAD detached at ${id}) ${id} first commit\n  a-long-feature             ${id} first commit\n  main                       ${id} first commit\n`);
});
