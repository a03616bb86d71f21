// Files with hundreds of thousands of lines: a diff and a merge go through without hitting the
// call-stack limit (an array spread into push() of a 300,000-line hunk overflowed it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { structuredPatch } from 'diff';
import { formatPatch, mergeText } from '../src/engine';

const LINES = 300_000;
const big = (edit?: (i: number) => string | undefined) =>
  Buffer.from(Array.from({ length: LINES }, (_, i) => edit?.(i) ?? `line ${i}\n`).join(''));

test(`diff of an added ${LINES.toLocaleString('en')}-line file is every line, with git's headers`, () => {
  const body = big();
  const { patch, binary } = formatPatch('big.txt', undefined, { id: 'a'.repeat(64), mode: '100644', body });
  assert.equal(binary, false);
  const lines = patch.split('\n');
  assert.deepEqual(lines.slice(0, 6), ['diff --git a/big.txt b/big.txt', 'new file mode 100644', 'index 0000000..aaaaaaa', '--- /dev/null', '+++ b/big.txt', `@@ -0,0 +1,${LINES} @@`]);
  assert.equal(lines.filter((l) => l.startsWith('+line ')).length, LINES);
});

test(`a three-way merge of a ${LINES.toLocaleString('en')}-line file: both edits kept, or one conflict`, () => {
  const base = big();
  const ours = big((i) => (i === 10 ? 'ours 10\n' : undefined));
  const theirs = big((i) => (i === LINES - 10 ? 'theirs\n' : undefined));
  const clean = mergeText(base, ours, theirs, { theirsLabel: 'theirs' });
  assert.equal(clean.conflicts, 0);
  assert.ok(clean.body.equals(big((i) => (i === 10 ? 'ours 10\n' : i === LINES - 10 ? 'theirs\n' : undefined))));
  const both = mergeText(base, ours, big((i) => (i === 10 ? 'theirs 10\n' : undefined)), { theirsLabel: 'theirs' });
  assert.equal(both.conflicts, 1);
  assert.equal(both.body.toString('latin1').split('\n').length - 1, LINES - 1 + 5); // one line became the five of a conflict
});

test('the patch of a file added or deleted whole is what jsdiff makes of it (random contents)', () => {
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const pieces = ['a', 'line', '', ' ', '\r', '\t', 'ü', 'x y'];
  for (let k = 0; k < 300; k++) {
    const text = Array.from({ length: rand(6) }, () => pieces[rand(pieces.length)] + (rand(4) ? '\n' : '')).join('');
    const body = Buffer.from(text);
    for (const added of [true, false]) {
      const side = { id: 'b'.repeat(64), mode: '100644' as const, body };
      const { patch } = added ? formatPatch('f', undefined, side) : formatPatch('f', side, undefined);
      const p = structuredPatch(added ? '/dev/null' : 'a/f', added ? 'b/f' : '/dev/null', added ? '' : text, added ? text : '', '', '', { context: 3 });
      const hunks = p.hunks.flatMap((h) => [`@@ -${h.oldLines ? (h.oldLines === 1 ? '1' : `1,${h.oldLines}`) : '0,0'} +${h.newLines ? (h.newLines === 1 ? '1' : `1,${h.newLines}`) : '0,0'} @@`, ...h.lines]);
      const expected = hunks.length ? [added ? '--- /dev/null' : '--- a/f', added ? '+++ b/f' : '+++ /dev/null', ...hunks] : [];
      assert.deepEqual(patch.split('\n').slice(3, -1), expected, JSON.stringify(text));
    }
  }
});
