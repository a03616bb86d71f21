// blame: each line's last change, across several authors and through a merge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blame } from '../src/engine';
import { ok, pw, write } from './helpers';
import { as, commitAll, open, rejectsCode, repoWith } from './merge-helpers';

test('blame names the commit, author and date that last changed each line, with several authors', async () => {
  as('Alice Example');
  process.env.PATCHWORK_DATE = '1700000000';
  const dir = await repoWith({ 'poem.txt': 'roses are red\nviolets are blue\nsugar is sweet\n' });
  const repo = await open(dir);
  const c1 = (await repo.headCommit())!;

  as('Bob Builder');
  write(dir, 'poem.txt', 'roses are red\nviolets are BLUE\nsugar is sweet\nand so are you\n');
  const c2 = await commitAll(dir, 'bob edits');
  const t2 = Number(process.env.PATCHWORK_DATE);

  as('Carol Writer');
  write(dir, 'poem.txt', 'Roses are red\nviolets are BLUE\nsugar is sweet\nand so are you\n');
  const c3 = await commitAll(dir, 'carol capitalises');
  write(dir, 'other.txt', 'unrelated\n');
  await commitAll(dir, 'carol adds another file');

  const r = await blame(repo, 'poem.txt');
  assert.deepEqual(
    r.lines.map((l) => [l.line, l.commit, l.author.name, l.origLine, l.text]),
    [
      [1, c3, 'Carol Writer', 1, 'Roses are red'],
      [2, c2, 'Bob Builder', 2, 'violets are BLUE'],
      [3, c1, 'Alice Example', 3, 'sugar is sweet'],
      [4, c2, 'Bob Builder', 4, 'and so are you'],
    ],
  );
  assert.equal(r.lines[1].author.timestamp, t2);
  assert.equal(r.lines[2].summary, 'base');

  // At an older revision, and through the CLI (git's layout).
  assert.deepEqual((await blame(repo, 'poem.txt', { rev: 'HEAD~2' })).lines.map((l) => l.commit), [c1, c2, c1, c2]);
  const out = (await ok(dir, 'blame', 'poem.txt')).out.split('\n');
  assert.equal(out[1], `${c2.slice(0, 8)} (Bob Builder   2023-11-14 22:15:20 +0000 2) violets are BLUE`);
  assert.equal(out[0].startsWith(`${c3.slice(0, 8)} (Carol Writer  `), true);

  await rejectsCode(blame(repo, 'missing.txt'), 'PATH_NOT_FOUND');
  const cli = await pw(dir, 'blame', 'missing.txt');
  assert.equal(cli.code, 1);
  assert.match(cli.err, /missing\.txt is not a file in HEAD\.\nhint: /);
});

test('blame through a merge credits the side branch author for the lines they wrote', async () => {
  as('Alice Example');
  const dir = await repoWith({ 'f.txt': 'a\nb\nc\nd\ne\n' });
  const repo = await open(dir);
  const base = (await repo.headCommit())!;
  await ok(dir, 'checkout', '-b', 'side');
  as('Bob Builder');
  write(dir, 'f.txt', 'a\nb\nc\nd\nE by bob\n');
  const bob = await commitAll(dir, 'bob');
  await ok(dir, 'checkout', 'main');
  as('Alice Example');
  write(dir, 'f.txt', 'A by alice\nb\nc\nd\ne\n');
  const alice = await commitAll(dir, 'alice');
  await ok(dir, 'merge', 'side');
  const r = await blame(repo, 'f.txt');
  assert.deepEqual(
    r.lines.map((l) => l.commit),
    [alice, base, base, base, bob],
  );
  await rejectsCode(blame(repo, 'f.txt', { rev: 'nope' }), 'UNKNOWN_REVISION');
  write(dir, 'bin.dat', Buffer.from([0, 1, 2]));
  await commitAll(dir, 'binary');
  await rejectsCode(blame(repo, 'bin.dat'), 'INVALID_ARGUMENT');
});
