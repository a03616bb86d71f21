import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Repository } from '../src/engine';
import { fixedEnv, git, ok, tmp, write } from './helpers';

// Patchwork's objects are git's SHA-256 objects byte for byte: the git CLI is the judge.

function sampleTree(root: string): void {
  write(root, 'README.md', '# Sample\n');
  write(root, 'foo.c', 'int main;\n');
  write(root, 'foo-bar', 'dash sorts before dot\n');
  write(root, 'foo/inner.txt', 'folder sorts as "foo/"\n');
  write(root, 'src/lib/deep/file.ts', 'export const x = 1;\n');
  write(root, 'empty', '');
  write(root, 'bin/data.bin', Buffer.from([0, 1, 2, 255, 0, 10]));
  write(root, 'unicodé/ñame.txt', 'utf-8 names\n');
  write(root, 'script.sh', '#!/bin/sh\necho hi\n');
  chmodSync(join(root, 'script.sh'), 0o755);
  symlinkSync('README.md', join(root, 'link-to-readme'));
  symlinkSync('../nowhere', join(root, 'dangling'));
}

test('the same work tree gives the same tree id in Patchwork and in git', async () => {
  fixedEnv();
  const dir = tmp();
  sampleTree(dir);
  await ok(dir, 'init', 'sample');
  await ok(dir, 'add', '.');
  await ok(dir, 'commit', '-m', 'sample');
  git(dir, 'init', '-q', '--object-format=sha256');
  writeFileSync(join(dir, '.git/info/exclude'), '/.patch/\n');
  git(dir, 'add', '-A');
  const gitTree = git(dir, 'write-tree').trim();
  const repo = await Repository.open(dir);
  const c = await repo.readCommit((await repo.headCommit())!);
  assert.equal(c.tree, gitTree);
});

test('objects exported into a sha256 git repository pass git fsck --strict and show the same log', async () => {
  fixedEnv();
  const dir = tmp();
  sampleTree(dir);
  await ok(dir, 'init', 'export');
  await ok(dir, 'add', '.');
  await ok(dir, 'commit', '-m', 'First commit', '-m', 'With a body paragraph.');
  write(dir, 'src/lib/deep/file.ts', 'export const x = 2;\n');
  process.env.PATCHWORK_DATE = '1700000100';
  process.env.PATCHWORK_AUTHOR_NAME = 'Bob Builder';
  await ok(dir, 'commit', '-a', '-m', 'Second: change x');
  await ok(dir, 'rm', 'foo.c');
  process.env.PATCHWORK_DATE = '1700000200';
  await ok(dir, 'commit', '-m', 'Third: remove foo.c');
  const head = (await ok(dir, 'log', '--oneline')).out;
  assert.equal(head.split('\n').filter(Boolean).length, 3);

  // Loose objects are stored exactly as git stores them (zlib of "<type> <size>\0<body>"),
  // so exporting is a copy into .git/objects/<2 hex>/<62 hex>.
  const gitDir = tmp();
  git(gitDir, 'init', '-q', '--bare', '--object-format=sha256');
  for (const type of ['blobs', 'trees', 'commits']) {
    const base = join(dir, '.patch/objects', type);
    for (const fan of readdirSync(base)) {
      mkdirSync(join(gitDir, 'objects', fan), { recursive: true });
      cpSync(join(base, fan), join(gitDir, 'objects', fan), { recursive: true });
    }
  }
  const repo = await Repository.open(dir);
  const tip = (await repo.headCommit())!;
  writeFileSync(join(gitDir, 'refs/heads/main'), tip + '\n');
  writeFileSync(join(gitDir, 'HEAD'), 'ref: refs/heads/main\n');
  const fsck = git(gitDir, 'fsck', '--strict', '--full', '--no-dangling');
  assert.equal(fsck.trim(), '');

  const gitLog = git(gitDir, 'log', '--format=%H|%T|%P|%an|%ae|%at|%cn|%ct|%B%x00').split('\0').map((s) => s.trim()).filter(Boolean);
  const ours: string[] = [];
  for (let id: string | undefined = tip; id; ) {
    const c = await repo.readCommit(id);
    ours.push([id, c.tree, c.parents.join(' '), c.author.name, c.author.email, c.author.timestamp, c.committer.name, c.committer.timestamp, c.message].join('|').trim());
    id = c.parents[0];
  }
  assert.deepEqual(gitLog, ours);
  assert.equal(git(gitDir, 'cat-file', '-t', tip).trim(), 'commit');
  assert.equal(git(gitDir, 'show', `${tip}:src/lib/deep/file.ts`), 'export const x = 2;\n');
});
