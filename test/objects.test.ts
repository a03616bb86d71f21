import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCommit, decodeTree, encodeCommit, encodeTree, objectId, PatchworkError, pathComponentProblem } from '../src/engine';
import { compareTreeEntries } from '../src/engine/objects';

const ID = 'a'.repeat(64);

test('blob ids are SHA-256 of git\'s "blob <size>\\0<bytes>" framing', () => {
  // Known values from `git hash-object --stdin` in a `git init --object-format=sha256` repository.
  assert.equal(objectId('blob', Buffer.from('hello\n')), '2cf8d83d9ee29543b34a87727421fdecb7e3f3a183d337639025de576db9ebb4');
  assert.equal(objectId('blob', Buffer.alloc(0)), '473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813');
});

test('trees are encoded in git\'s canonical order (folders sort as if they ended in "/")', () => {
  const entries = [
    { mode: '100644' as const, name: 'foo.c', id: ID },
    { mode: '40000' as const, name: 'foo', id: ID },
    { mode: '100644' as const, name: 'foo-bar', id: ID },
  ];
  const names = decodeTree(encodeTree(entries)).map((e) => e.name);
  // '-' (0x2d) < '.' (0x2e) < '/' (0x2f): foo-bar, foo.c, foo/
  assert.deepEqual(names, ['foo-bar', 'foo.c', 'foo']);
  assert.ok(compareTreeEntries({ mode: '100644', name: 'a', id: ID }, { mode: '100644', name: 'a.b', id: ID }) < 0);
});

test('commits round-trip byte for byte, extra headers included', () => {
  const c = {
    tree: ID,
    parents: ['b'.repeat(64), 'c'.repeat(64)],
    author: { name: 'Ada', email: 'ada@example.org', timestamp: 1700000000, tzOffset: 90 },
    committer: { name: 'Bob', email: 'bob@example.org', timestamp: 1700000001, tzOffset: -300 },
    extraHeaders: [['encoding', 'UTF-8']] as [string, string][],
    message: 'Title\n\nBody line\n',
  };
  const bytes = encodeCommit(c);
  assert.match(bytes.toString(), /^tree a{64}\nparent b{64}\nparent c{64}\nauthor Ada <ada@example.org> 1700000000 \+0130\ncommitter Bob <bob@example.org> 1700000001 -0500\nencoding UTF-8\n\nTitle/);
  assert.deepEqual(decodeCommit(bytes), c);
  assert.ok(encodeCommit(decodeCommit(bytes)).equals(bytes));
});

test('unsafe tree entry names are rejected when parsing a tree', () => {
  for (const bad of ['..', '.', '.patch', '.PATCH', '.Git', 'a\\b']) {
    const body = Buffer.concat([Buffer.from(`100644 ${bad}\0`), Buffer.alloc(32)]);
    assert.throws(() => decodeTree(body), (e: unknown) => e instanceof PatchworkError && e.code === 'CORRUPT_OBJECT', bad);
  }
  assert.throws(() => decodeTree(Buffer.concat([Buffer.from('100644 \0'), Buffer.alloc(32)])), /corrupt/i);
  assert.throws(() => decodeTree(Buffer.concat([Buffer.from('160000 sub\0'), Buffer.alloc(32)])), /unsupported mode/);
  assert.throws(() => decodeTree(Buffer.from('100644 short\0abc')), /truncated/);
});

test('unsorted or repeated tree entries are rejected', () => {
  const e = (n: string) => Buffer.concat([Buffer.from(`100644 ${n}\0`), Buffer.alloc(32)]);
  assert.throws(() => decodeTree(Buffer.concat([e('b'), e('a')])), /canonical order/);
  assert.throws(() => decodeTree(Buffer.concat([e('a'), e('a')])), /canonical order/);
});

test('path components: reserved, dot, empty and separator names are invalid', () => {
  assert.equal(pathComponentProblem('ok.txt'), undefined);
  for (const bad of ['', '.', '..', '.patch', '.Patch', 'a/b', 'a\\b', 'a\0b']) assert.ok(pathComponentProblem(bad), JSON.stringify(bad));
});

test('malformed commits are rejected', () => {
  assert.throws(() => decodeCommit(Buffer.from('tree xyz\n\nmsg')), /tree line/);
  assert.throws(() => decodeCommit(Buffer.from(`tree ${ID}\nauthor A <a> 1 +0000\n\nmsg`)), /committer/);
  assert.throws(() => decodeCommit(Buffer.from(`tree ${ID}\nauthor A <a> 1 +0000\ncommitter A <a> 1 +0000\nparent ${ID}\n\nmsg`)), /unexpected header/);
});
