// The benchmark corpus must be the same bytes on every machine and every run, or figures taken on
// different days are not comparable (bench/corpus.ts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CorpusSpec, Rng, editFiles, restoreFiles, syntheticCorpus } from '../bench/corpus';
import { tmp } from './helpers';

const spec: CorpusSpec = { name: 'tiny', files: 300, dirs: 20, bytes: 2 * 1024 * 1024, large: 0, seed: 7 };

function digest(dir: string, paths: string[]): string {
  const h = createHash('sha256');
  for (const p of paths) h.update(p).update(readFileSync(join(dir, p)));
  return h.digest('hex');
}

test('the same seed generates the same corpus, byte for byte', () => {
  const a = syntheticCorpus(spec, undefined, tmp());
  const b = syntheticCorpus(spec, undefined, tmp());
  const paths = a.files.map((f) => f.path);
  assert.deepEqual(b.files, a.files);
  assert.equal(digest(b.dir, paths), digest(a.dir, paths));
  assert.equal(a.files.length, 300);
  assert.ok(Math.abs(a.bytes - spec.bytes) / spec.bytes < 0.05, `size ${a.bytes} is near the target`);
  assert.ok(a.files.some((f) => f.binary) && a.files.some((f) => !f.binary));
  const other = syntheticCorpus({ ...spec, name: 'tiny2', seed: 8 }, undefined, tmp());
  assert.notDeepEqual(other.files, a.files, 'another seed gives another corpus');
});

test('edits are deterministic, change every chosen file, and restore exactly', () => {
  const c = syntheticCorpus(spec, undefined, tmp());
  const paths = c.files.map((f) => f.path);
  const before = digest(c.dir, paths);
  const edited = editFiles(spec, c.dir, c.files, 0.1, 1);
  assert.equal(edited.length, 30);
  assert.notEqual(digest(c.dir, paths), before);
  restoreFiles(spec, c.dir, c.files, edited);
  assert.equal(digest(c.dir, paths), before);
  assert.equal(new Rng(1).u32(), new Rng(1).u32());
});
