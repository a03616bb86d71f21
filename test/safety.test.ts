import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { Repository, encodeCommit, objectId } from '../src/engine';
import { fixedEnv, ok, pw, read, snapshot, tmp, write } from './helpers';

fixedEnv();

async function repoWith(files: Record<string, string>): Promise<string> {
  const dir = tmp();
  await ok(dir, 'init', 'safety');
  for (const [p, c] of Object.entries(files)) write(dir, p, c);
  await ok(dir, 'add', '.');
  await ok(dir, 'commit', '-m', 'initial');
  return dir;
}

function objectPath(dir: string, kind: 'blobs' | 'trees' | 'commits', id: string): string {
  return join(dir, '.patch/objects', kind, id.slice(0, 2), id.slice(2));
}

test('a lock held by a live process gives "locked by process N" and changes nothing', async () => {
  const dir = await repoWith({ 'a.txt': '1\n' });
  write(dir, 'a.txt', '2\n');
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
  try {
    writeFileSync(join(dir, '.patch/lock'), JSON.stringify({ pid: sleeper.pid, host: (await import('node:os')).hostname(), operation: 'commit' }));
    const before = snapshot(dir);
    const r = await pw(dir, 'commit', '-am', 'blocked');
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`locked by process ${sleeper.pid} \\(commit\\)`));
    assert.match(r.err, /hint: .*remove .*\.patch\/lock/);
    assert.deepEqual(snapshot(dir), before);
  } finally {
    sleeper.kill();
  }
});

test('a stale lock whose process is gone is taken over', async () => {
  const dir = await repoWith({ 'a.txt': '1\n' });
  const dead = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => dead.on('exit', r));
  writeFileSync(join(dir, '.patch/lock'), JSON.stringify({ pid: dead.pid, host: (await import('node:os')).hostname(), operation: 'add' }));
  write(dir, 'a.txt', '2\n');
  await ok(dir, 'commit', '-am', 'after a crash');
  assert.ok(!existsSync(join(dir, '.patch/lock')));
});

test('concurrent writers in one process queue instead of failing', async () => {
  const dir = await repoWith({ 'a.txt': '1\n' });
  const repo = await Repository.open(dir);
  const { add, commit } = await import('../src/engine');
  for (let i = 0; i < 5; i++) write(dir, `f${i}.txt`, `${i}\n`);
  await Promise.all([0, 1, 2, 3, 4].map((i) => add(repo, [`f${i}.txt`])));
  await commit(repo, { message: 'five files' });
  assert.deepEqual(JSON.parse((await ok(dir, 'status', '--json')).out).staged, []);
  assert.match((await ok(dir, 'show', '--stat')).out, /f4\.txt/);
});

test('fsck names a corrupt object and a missing one and exits non-zero', async () => {
  const dir = await repoWith({ 'a.txt': 'content a\n', 'b.txt': 'content b\n' });
  assert.match((await ok(dir, 'fsck')).out, /0 problems/);
  const aId = objectId('blob', Buffer.from('content a\n'));
  const bId = objectId('blob', Buffer.from('content b\n'));
  const aPath = objectPath(dir, 'blobs', aId);
  chmodSync(aPath, 0o644);
  writeFileSync(aPath, deflateSync(Buffer.from('blob 10\0tampered!!')));
  rmSync(objectPath(dir, 'blobs', bId));
  const r = await pw(dir, 'fsck');
  assert.equal(r.code, 1);
  assert.match(r.out, new RegExp(`corrupt blob ${aId}: .*does not match its id`));
  assert.match(r.out, new RegExp(`missing blob ${bId}`));
  // Reading the damaged object fails clearly instead of returning bad bytes.
  rmSync(join(dir, 'a.txt'));
  const restore = await pw(dir, 'restore', 'a.txt');
  assert.equal(restore.code, 1);
  assert.match(restore.err, /is corrupt: its content does not match its id/);
});

test('a tree with a ".." entry is refused at checkout and nothing is written outside the work tree', async () => {
  const parent = tmp();
  const dir = join(parent, 'repo');
  mkdirSync(dir);
  await ok(dir, 'init', 'victim');
  write(dir, 'ok.txt', 'fine\n');
  await ok(dir, 'add', '.');
  await ok(dir, 'commit', '-m', 'fine');
  const repo = await Repository.open(dir);
  // Hand-craft a hostile tree (the encoder refuses to make one) and a commit pointing at it.
  const blob = await repo.store.write('blob', Buffer.from('pwned\n'));
  const evilTree = await repo.store.write('tree', Buffer.concat([Buffer.from('100644 ..\0'), Buffer.from(blob, 'hex')]));
  const sig = { name: 'Mallory', email: 'm@example.org', timestamp: 1700000000, tzOffset: 0 };
  const evil = await repo.store.write('commit', encodeCommit({ tree: evilTree, parents: [], author: sig, committer: sig, message: 'evil\n' }));
  const before = snapshot(dir);
  const r = await pw(dir, 'checkout', evil);
  assert.equal(r.code, 1);
  assert.match(r.err, /corrupt: tree entry name "\.\." is "\.\."/);
  assert.deepEqual(snapshot(dir), before);
  assert.deepEqual(readdirSync(parent).sort(), ['repo']);
});

test('checkout never writes through a symlink that replaced a folder', async () => {
  const dir = await repoWith({ 'docs/a.txt': 'a\n' });
  await ok(dir, 'checkout', '-b', 'more');
  write(dir, 'docs/b.txt', 'b\n');
  await ok(dir, 'add', '.');
  await ok(dir, 'commit', '-m', 'b');
  await ok(dir, 'checkout', 'main');
  // Replace the tracked folder by a symlink to a folder outside the work tree.
  const outside = tmp();
  rmSync(join(dir, 'docs'), { recursive: true });
  symlinkSync(outside, join(dir, 'docs'));
  const r = await pw(dir, 'checkout', 'more');
  assert.equal(r.code, 1);
  assert.deepEqual(readdirSync(outside), [], 'nothing written through the link');
});

test('checkout replaces a file that is a symlink or has another hard link, never writing through it', async () => {
  const dir = await repoWith({ 'a.txt': 'one\n', 'b.txt': 'one\n' });
  await ok(dir, 'checkout', '-b', 'two');
  write(dir, 'a.txt', 'two\n');
  write(dir, 'b.txt', 'two\n');
  await ok(dir, 'commit', '-am', 'two');
  await ok(dir, 'checkout', 'main');
  const outside = tmp();
  // b.txt gets a second name outside the work tree: its content is unchanged, so it is not a local change.
  linkSync(join(dir, 'b.txt'), join(outside, 'b-link.txt'));
  // a.txt becomes a symlink to a file outside: a local change, so only --force replaces it.
  write(outside, 'victim.txt', 'victim\n');
  unlinkSync(join(dir, 'a.txt'));
  symlinkSync(join(outside, 'victim.txt'), join(dir, 'a.txt'));
  const r = await pw(dir, 'checkout', 'two');
  assert.equal(r.code, 1);
  assert.match(r.err, /a\.txt \(modified\)/);
  await ok(dir, 'checkout', '--force', 'two');
  assert.ok(!lstatSync(join(dir, 'a.txt')).isSymbolicLink());
  assert.equal(read(dir, 'a.txt'), 'two\n');
  assert.equal(read(dir, 'b.txt'), 'two\n');
  assert.equal(read(outside, 'victim.txt'), 'victim\n', 'nothing written through the symlink');
  assert.equal(read(outside, 'b-link.txt'), 'one\n', 'the other name of b.txt keeps the old content');
});

test('failed commands leave the repository exactly as it was', async () => {
  const dir = await repoWith({ 'a.txt': '1\n' });
  write(dir, 'a.txt', 'local\n');
  const before = snapshot(dir);
  for (const argv of [
    ['commit', '-m', 'nothing staged'],
    ['checkout', 'no-such-branch'],
    ['add', 'missing-file.txt'],
    ['branch', '-d', 'main'],
    ['reset', '--hard', 'no-such-rev'],
    ['rm', 'a.txt'],
    ['tag', 'x', 'no-such-rev'],
    ['log', 'no-such-rev'],
  ]) {
    const r = await pw(dir, ...argv);
    assert.notEqual(r.code, 0, argv.join(' '));
    assert.match(r.err, /^patchwork: (error: )?\S.*\n/, argv.join(' '));
    assert.doesNotMatch(r.err, /\n\s+at /, `${argv.join(' ')} printed a stack trace`);
    assert.deepEqual(snapshot(dir), before, `${argv.join(' ')} changed the repository`);
  }
  assert.equal(read(dir, 'a.txt'), 'local\n');
});

test('a damaged index or configuration gives a clear error', async () => {
  const dir = await repoWith({ 'a.txt': '1\n' });
  const ix = readFileSync(join(dir, '.patch/index'));
  ix[ix.length - 40] ^= 0xff;
  writeFileSync(join(dir, '.patch/index'), ix);
  const r = await pw(dir, 'status');
  assert.equal(r.code, 1);
  assert.match(r.err, /staging area \(\.patch\/index\) is damaged: checksum mismatch/);
  writeFileSync(join(dir, '.patch/patchwork.toml'), '[repository\nname=');
  assert.match((await pw(dir, 'status')).err, /configuration is not valid TOML/);
});

test('adding a path outside the repository is refused', async () => {
  const dir = await repoWith({ 'a.txt': '1\n' });
  const r = await pw(dir, 'add', '../elsewhere.txt');
  assert.equal(r.code, 1);
  assert.match(r.err, /outside the repository/);
});

test('Repository.openSync (the peer worker\'s start path) finds and opens what open does, with the same errors', async () => {
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return (e as { code?: string }).code ?? `no code: ${String(e)}`;
    }
    return 'no error';
  };
  const dir = await repoWith({ 'sub/a.txt': '1\n' });
  const { repo, config } = Repository.openSync(join(dir, 'sub'));
  const opened = await Repository.open(join(dir, 'sub'));
  assert.equal(repo.root, opened.root);
  assert.deepEqual(config, await opened.config());
  assert.equal(codeOf(() => Repository.openSync(tmp())), 'NOT_A_REPOSITORY');
  // From a file's path (ENOTDIR below it), as open does: the walk goes on to the folder holding it.
  assert.equal(Repository.openSync(join(dir, 'sub', 'a.txt')).repo.root, (await Repository.open(join(dir, 'sub', 'a.txt'))).root);
  // A .patch/ without HEAD is not a repository (the walk goes on upwards), as for open.
  const bare = tmp();
  mkdirSync(join(bare, '.patch'));
  assert.equal(codeOf(() => Repository.openSync(bare)), 'NOT_A_REPOSITORY');
  const toml = join(dir, '.patch', 'patchwork.toml');
  writeFileSync(toml, '[repository\n');
  assert.equal(codeOf(() => Repository.openSync(dir)), 'INVALID_CONFIG');
  rmSync(toml);
  assert.throws(() => Repository.openSync(dir), (e: Error & { code?: string }) => e.code === 'INVALID_CONFIG' && /is missing/.test(e.message));
});

test('user errors carry stable codes', async () => {
  const { add, checkout, commit, resolveRevision, isPatchworkError } = await import('../src/engine');
  const code = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return isPatchworkError(e) ? e.code : `not a PatchworkError: ${String(e)}`;
    }
    return 'no error';
  };
  assert.equal(await code(Repository.open(tmp())), 'NOT_A_REPOSITORY');
  const dir = await repoWith({ 'a.txt': '1\n' });
  assert.equal(await code(Repository.init(dir)), 'ALREADY_A_REPOSITORY');
  const repo = await Repository.open(dir);
  assert.equal(await code(resolveRevision(repo, 'nope')), 'UNKNOWN_REVISION');
  assert.equal(await code(commit(repo, { message: 'x' })), 'NOTHING_TO_COMMIT');
  assert.equal(await code(add(repo, ['missing.txt'])), 'PATH_NOT_FOUND');
  await ok(dir, 'branch', 'other');
  write(dir, 'a.txt', '2\n');
  await ok(dir, 'commit', '-am', 'two');
  write(dir, 'a.txt', 'local\n');
  assert.equal(await code(checkout(repo, 'other')), 'DIRTY_WORKTREE');
  writeFileSync(join(dir, '.patch/lock'), JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), operation: 'test' }));
  assert.equal(await code(add(repo, ['a.txt'])), 'LOCKED');
  rmSync(join(dir, '.patch/lock'));
});
