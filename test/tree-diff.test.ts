// Repository.flattenChanged (what a pull's fast-forward moves) must name exactly the paths where two
// whole flattened trees differ, with each side's entry, without reading subtrees both sides share.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Repository, type FlatTree, type TreeEntry } from '../src/engine';
import { tmp } from './helpers';

/** The long way round: flatten both trees whole and keep the paths whose entries differ. */
function bruteForce(a: FlatTree, b: FlatTree): [FlatTree, FlatTree] {
  const out: [FlatTree, FlatTree] = [new Map(), new Map()];
  for (const p of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(p);
    const y = b.get(p);
    if (x && y && x.id === y.id && x.mode === y.mode) continue;
    if (x) out[0].set(p, x);
    if (y) out[1].set(p, y);
  }
  return out;
}

const sorted = (m: FlatTree) => [...m].sort(([p], [q]) => (p < q ? -1 : 1));

test('flattenChanged equals the difference of the two flattened trees, and skips shared subtrees', async () => {
  const repo = await Repository.init(tmp(), { user: { name: 'T', email: 't@example.org' } });
  const blob = (s: string) => repo.store.write('blob', Buffer.from(s));
  const tree = async (spec: Record<string, string | Record<string, unknown>>): Promise<string> => {
    const entries: TreeEntry[] = [];
    for (const [name, v] of Object.entries(spec)) {
      if (typeof v === 'string') {
        const [mode, content] = v.startsWith('x:') ? (['100755', v.slice(2)] as const) : (['100644', v] as const);
        entries.push({ name, mode, id: await blob(content) });
      } else entries.push({ name, mode: '40000', id: await tree(v as Record<string, string>) });
    }
    return repo.writeTree(entries);
  };
  const shared = { deep: { a: 'same', b: 'same too' }, c: 'c' };
  const a = await tree({ keep: shared, f: 'one', gone: 'bye', swap: 'file here', mode: 'm', d: { x: '1', y: '2' } });
  const b = await tree({ keep: shared, f: 'two', added: 'hi', swap: { inner: 'folder now' }, mode: 'x:m', d: { x: '1', y: '3', z: { n: 'new' } } });
  const reads: string[] = [];
  const readTree = repo.readTree.bind(repo);
  repo.readTree = async (id: string) => {
    reads.push(id);
    return readTree(id);
  };
  const [from, to] = await repo.flattenChanged(a, b);
  const readDuringDiff = [...reads];
  const expected = bruteForce(await repo.flattenTree(a), await repo.flattenTree(b));
  assert.deepEqual(sorted(from), sorted(expected[0]));
  assert.deepEqual(sorted(to), sorted(expected[1]));
  assert.deepEqual([...to.keys()].sort(), ['added', 'd/y', 'd/z/n', 'f', 'mode', 'swap/inner']);
  assert.deepEqual([...from.keys()].sort(), ['d/y', 'f', 'gone', 'mode', 'swap']);
  // The shared subtree (and the folder inside it) was never read.
  const keep = (await readTree(a)).find((e) => e.name === 'keep')!.id;
  const deep = (await readTree(keep)).find((e) => e.name === 'deep')!.id;
  assert.ok(readDuringDiff.length > 0);
  assert.ok(!readDuringDiff.includes(keep) && !readDuringDiff.includes(deep), 'keep/ is not read');
  assert.deepEqual(await repo.flattenChanged(a, a), [new Map(), new Map()]);
  const [none, all] = await repo.flattenChanged(undefined, b);
  assert.equal(none.size, 0);
  assert.deepEqual(sorted(all), sorted(await repo.flattenTree(b)));
});
