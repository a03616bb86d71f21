// Files with hundreds of thousands of lines: a diff and a merge go through without hitting the
// call-stack limit (an array spread into push() of a 300,000-line hunk overflowed it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
