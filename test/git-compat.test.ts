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
  // log itself, with diffs and stats, as git prints it (decorations on, as ours always are; paths
  // quoted as with core.quotePath off, as ours are).
  git(gitDir, 'config', 'core.quotePath', 'false');
  for (const args of [[], ['-p'], ['--stat'], ['-p', '--stat'], ['--oneline', '--stat'], ['--oneline', '-p'], ['-p', '--', 'src']]) {
    assert.equal((await ok(dir, 'log', ...args)).out, git(gitDir, 'log', '--decorate', ...args), `log ${args.join(' ')}`);
  }
});

test('diff (work tree, --staged, HEAD, --staged HEAD) prints what git diff --no-renames prints, byte for byte', async () => {
  fixedEnv();
  const [p, g] = [tmp(), tmp()];
  const numbered = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `    line ${from + i}\n`).join('');
  const longName = `function ${'a'.repeat(90)}() {\n`; // git cuts the hunk's function line to 80 bytes
  const before: Record<string, string> = {
    'src/two-hunks.c': `int first(void) {\n${numbered(1, 20)}}\n\n${longName}${numbered(21, 40)}}\n`,
    'gone.txt': 'deleted\n',
    'no-newline.txt': 'last line without a newline',
    'empty-gone.txt': '',
    'script.sh': '#!/bin/sh\necho hi\n',
    'assets/logo.bin': '\0\x01binary\n',
  };
  for (const d of [p, g]) for (const [path, text] of Object.entries(before)) write(d, path, text);
  await ok(p, 'init', 'diffs');
  await ok(p, 'add', '.');
  await ok(p, 'commit', '-m', 'before');
  git(g, 'init', '-q', '--object-format=sha256');
  git(g, 'add', '-A');
  git(g, 'commit', '-q', '-m', 'before');
  for (const d of [p, g]) {
    write(d, 'src/two-hunks.c', before['src/two-hunks.c']!.replace('line 5\n', 'line five\n').replace('line 33\n', 'line 33\n    inserted\n'));
    write(d, 'no-newline.txt', 'last line, still without a newline');
    write(d, 'added.txt', 'new\nfile\n');
    write(d, 'empty-added.txt', '');
    chmodSync(join(d, 'script.sh'), 0o755);
    write(d, 'assets/logo.bin', '\0\x01binary, longer now\n');
    // A long path (cut from the left in --stat) with more lines than the graph has columns.
    write(d, 'src/a/path/long/enough/to/be/cut/from/the/left/in/the/name/column/of/the/stat.txt', numbered(1, 150));
    // Names git quotes (a double quote, a tab), and one it prints as it is with core.quotePath off.
    write(d, 'say "hi".txt', 'hi\n');
    write(d, 'tab\tname.txt', 'tab\n');
    write(d, 'ünï.txt', 'unicode\n');
  }
  git(g, 'config', 'core.quotePath', 'false');
  await ok(p, 'rm', 'gone.txt', 'empty-gone.txt');
  await ok(p, 'add', '.');
  git(g, 'rm', '-q', 'gone.txt', 'empty-gone.txt');
  git(g, 'add', '-A');
  assert.equal((await ok(p, 'status', '--short')).out, git(g, 'status', '--short', '--no-renames'));
  const expected = git(g, 'diff', '--staged', '--no-renames'); // Patchwork does not detect renames
  assert.match(expected, /@@ -3,7 \+3,7 @@ int first\(void\) \{\n/); // the scenario has what it is meant to
  assert.match(expected, /@@ -35,6 \+35,7 @@ function a{71}\n/);
  assert.match(expected, /diff --git "a\/say \\"hi\\".txt" "b\/say \\"hi\\".txt"\n/);
  assert.match(expected, /diff --git "a\/tab\\tname.txt" "b\/tab\\tname.txt"\n/);
  assert.equal((await ok(p, 'diff', '--staged')).out, expected);
  // An edit on top, not staged: the work tree against the index, and against HEAD (every change).
  for (const d of [p, g]) write(d, 'added.txt', 'new\nfile\nedited after staging\n');
  for (const args of [[], ['HEAD'], ['--staged', 'HEAD'], ['--stat'], ['--stat', 'HEAD'], ['--staged', '--stat']]) {
    assert.equal((await ok(p, 'diff', ...args)).out, git(g, 'diff', '--no-renames', ...args), `diff ${args.join(' ')}`);
  }
});
