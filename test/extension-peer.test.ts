// The extension's peer-to-peer parts that need no VS Code: the reachability walk behind the sync
// counts, the words of the sync item and of pull/push reports, and out/peer.js's module
// (peer-host.ts) with real libp2p nodes on 127.0.0.1: serving on loopback, a taken port reported in
// words, errors crossing the bundle boundary as plain data, invite → clone, and pull/push.
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { Repository, add, commit, type Commit } from '../src/engine';
import * as host from '../src/extension/peer-host';
import { compareReach } from '../src/extension/reach';
import { ago, peerItem, pullReport, pushReport, syncTitle, syncTooltip } from '../src/extension/syncLabels';
import { namedRepo, read, tmp, write } from './helpers';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A commit graph in memory: name → parents, with timestamps (seconds). */
function graph(spec: Record<string, { parents: string[]; t: number }>) {
  return async (id: string) => {
    const c = spec[id];
    if (!c) throw new Error(`no commit ${id}`);
    return { parents: c.parents, committer: { timestamp: c.t } };
  };
}

test('compareReach: ahead and behind of diverged, merged and equal histories', async () => {
  //   a - b - c - d        (ours: d)
  //        \
  //         e - f          (theirs: f)
  const g = graph({ a: { parents: [], t: 1 }, b: { parents: ['a'], t: 2 }, c: { parents: ['b'], t: 3 }, d: { parents: ['c'], t: 4 }, e: { parents: ['b'], t: 5 }, f: { parents: ['e'], t: 6 } });
  assert.deepEqual(await compareReach(g, ['d'], ['f']), { onlyA: ['d', 'c'], onlyB: ['f', 'e'], capped: false });
  assert.deepEqual(await compareReach(g, ['d'], ['d']), { onlyA: [], onlyB: [], capped: false });
  assert.deepEqual(await compareReach(g, ['d'], ['b']), { onlyA: ['d', 'c'], onlyB: [], capped: false });
  assert.deepEqual(await compareReach(g, [], ['f']), { onlyA: [], onlyB: ['f', 'e', 'b', 'a'], capped: false });
  // A merge of both sides contains everything.
  const m = graph({ a: { parents: [], t: 1 }, b: { parents: ['a'], t: 2 }, c: { parents: ['a'], t: 3 }, m: { parents: ['b', 'c'], t: 4 } });
  assert.deepEqual(await compareReach(m, ['m'], ['c']), { onlyA: ['m', 'b'], onlyB: [], capped: false });
});

test('compareReach: a clock that went backwards does not make shared commits count', async () => {
  // theirs (x, dated in the past) descends from ours' c; c is newer than x by its date.
  const g = graph({ a: { parents: [], t: 100 }, c: { parents: ['a'], t: 500 }, x: { parents: ['c'], t: 50 }, d: { parents: ['c'], t: 600 } });
  assert.deepEqual(await compareReach(g, ['d'], ['x']), { onlyA: ['d'], onlyB: ['x'], capped: false });
});

test('compareReach: the walk stops at the merge base (it does not read all history) and honours its limit', async () => {
  const spec: Record<string, { parents: string[]; t: number }> = { c0: { parents: [], t: 0 } };
  for (let i = 1; i <= 1000; i++) spec[`c${i}`] = { parents: [`c${i - 1}`], t: i };
  spec.ours = { parents: ['c1000'], t: 2000 };
  spec.theirs = { parents: ['c1000'], t: 2001 };
  let reads = 0;
  const g = graph(spec);
  const counted = async (id: string) => {
    reads++;
    return g(id);
  };
  const r = await compareReach(counted, ['ours'], ['theirs']);
  assert.deepEqual([r.onlyA, r.onlyB], [['ours'], ['theirs']]);
  assert.ok(reads < 10, `${reads} commits read`);
  const capped = await compareReach(g, ['ours'], [], 10);
  assert.equal(capped.capped, true);
  assert.equal(capped.onlyA.length, 11);
});

test('compareReach on a real repository agrees with the engine history', async () => {
  const dir = tmp('pw-reach-');
  const repo = await Repository.init(dir, { user: { name: 'T', email: 't@example.org' } });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    write(dir, 'f.txt', `${i}\n`);
    await add(repo, ['f.txt']);
    ids.push((await commit(repo, { message: `c${i}` })).id);
  }
  const r = await compareReach((id) => repo.readCommit(id) as Promise<Commit>, [ids[4]!], [ids[1]!]);
  assert.deepEqual(r.onlyA, [ids[4], ids[3], ids[2]]);
});

test('the sync item: Git\'s text, spinning while it runs, "+" when the walk was cut short', () => {
  const counts = { incoming: 2, outgoing: 1, capped: false, branch: 'main' };
  assert.equal(syncTitle(counts, false), '$(sync) 2↓ 1↑');
  assert.equal(syncTitle(counts, true), '$(sync~spin) 2↓ 1↑');
  assert.equal(syncTitle({ ...counts, incoming: 0, outgoing: 0 }, false), '$(sync)');
  assert.equal(syncTitle(undefined, false), '$(sync)');
  assert.equal(syncTitle({ ...counts, capped: true }, false), '$(sync) 2+↓ 1+↑');
  const online = { kind: 'online' as const, peerId: '12D3KooWabcdefgh12345678', addresses: ['/ip4/127.0.0.1/tcp/4100/p2p/12D3KooWabcdefgh12345678'], discovery: [] };
  const tip = syncTooltip(counts, online, 1, undefined);
  assert.match(tip, /pull 2 commits and push 1 commit \(main\)/);
  assert.match(tip, /listening on \/ip4\/127\.0\.0\.1\/tcp\/4100$/m);
  assert.match(syncTooltip(undefined, online, 0, undefined), /no collaborators yet/);
  assert.equal(peerItem(online), undefined);
  assert.deepEqual(peerItem({ kind: 'failed', reason: 'The peer cannot listen on /ip4/127.0.0.1/tcp/4100: the port is already in use.', short: 'port in use' })?.title, '$(warning) Peer: port in use');
  assert.equal(peerItem({ kind: 'external', peerId: 'x', addresses: [], owner: 'cli', pid: 42 })?.title, '$(broadcast) Peer: CLI');
  assert.equal(ago(new Date(Date.now() - 5 * 60_000).toISOString()), '5 min ago');
  assert.equal(ago(undefined), 'never');
});

test('pull and push reports: quiet on success, a notification when the user has to act', () => {
  const pulled = (kind: string, extra = {}) => ({
    peer: 'p',
    name: 'alice',
    ok: true as const,
    result: { commits: 2, objects: 6, bytes: 100, changed: 1, newTags: [], integration: { kind: kind as 'merged', branch: 'main', ...extra } },
  });
  assert.deepEqual(pullReport([pulled('fast-forward')]), { severity: undefined, text: 'alice: 2 new commits; main updated', error: undefined, stop: false });
  const conflicts = pullReport([pulled('conflicts', { conflicts: [{ path: 'a', kind: 'content' }] })]);
  assert.equal(conflicts.severity, 'warning');
  assert.equal(conflicts.stop, true);
  assert.match(conflicts.text, /conflicts in 1 file/);
  const offline = { peer: 'q', name: 'bob', ok: false as const, offline: true, error: { name: 'PatchworkError' as const, code: 'P2P', message: 'Cannot reach bob.', data: {} } };
  assert.match(pullReport([offline]).text, /No collaborator answered: bob is offline/);
  assert.equal(pullReport([pulled('fast-forward'), offline]).severity, undefined);
  // Pull from one named collaborator who does not answer: an error with the reason.
  assert.deepEqual([pullReport([offline], true).severity, pullReport([offline], true).text], ['error', 'Cannot reach bob.']);
  const pushed = (outcome: string, reason?: string) => ({ peer: 'p', name: 'alice', ok: true as const, result: { branch: 'main', outcome: outcome as 'updated', reason: reason as 'diverged', objects: 3, bytes: 10 } });
  assert.equal(pushReport([pushed('updated')]).severity, undefined);
  assert.match(pushReport([pushed('delivered', 'diverged')]).text, /Delivered to alice; waiting for alice to merge \(main has diverged\)/);
  const refused = { ...offline, name: 'alice', offline: false, error: { ...offline.error, message: 'alice refused: you are a reader.', hint: 'Ask the owner to make you a writer.' } };
  assert.deepEqual([pushReport([refused]).severity, pushReport([refused]).text], ['error', 'alice refused: you are a reader. Ask the owner to make you a writer.']);
});

test('peer-host: listen addresses from the settings; bad ones are refused in words', () => {
  assert.equal(host.listenAddress('127.0.0.1', 0), '/ip4/127.0.0.1/tcp/0');
  assert.equal(host.listenAddress('::1', 4100), '/ip6/::1/tcp/4100');
  assert.throws(() => host.listenAddress('localhost', 0), (e: host.PlainError) => e.name === 'PatchworkError' && e.code === 'INVALID_CONFIG' && /not an IP address/.test(e.message));
  assert.throws(() => host.listenAddress('127.0.0.1', 70000), /not a port number/);
});

test('peer-host: serves on 127.0.0.1 by default, claims peer.json, and reports a taken port in words', { timeout: 30_000 }, async () => {
  const repo = await namedRepo('origin', { 'a.txt': 'a\n' });
  const ep = await host.startService(repo.root, { owner: 'vscode', logger: silent });
  try {
    assert.ok(ep.serving);
    assert.ok(ep.addresses().length > 0);
    for (const a of ep.addresses()) assert.match(a, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);
    const running = await host.runningPeer(repo.root);
    assert.deepEqual([running?.owner, running?.here, running?.peerId], ['vscode', true, ep.peerId]);
    // A second start for the same repository: LOCKED, naming where the first one runs.
    await assert.rejects(host.startService(repo.root, { owner: 'vscode', logger: silent }), (e: host.PlainError) => e.code === 'LOCKED' && typeof e.data.pid === 'number');
  } finally {
    await ep.stop();
  }
  assert.equal(existsSync(join(repo.patchDir, 'peer.json')), false, 'peer.json released on stop');

  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as { port: number }).port;
  try {
    await assert.rejects(
      host.startService(repo.root, { owner: 'vscode', logger: silent, listen: [host.listenAddress('127.0.0.1', port)] }),
      (e: host.PlainError) => e.code === 'P2P' && e.message === `The peer cannot listen on /ip4/127.0.0.1/tcp/${port}: the port is already in use.` && /patchwork\.peer\.port/.test(e.hint ?? ''),
    );
    assert.equal(existsSync(join(repo.patchDir, 'peer.json')), false, 'a failed start leaves no peer.json');
  } finally {
    blocker.close();
  }
});

test("peer-host: a peer starts without a trip through libuv's thread pool (which the editor's file I/O keeps busy while VS Code starts)", { timeout: 30_000 }, async () => {
  const repo = await namedRepo('origin', { 'a.txt': 'a\n' });
  await host.peerId(repo.root); // an identity already, as in a repository whose peer has run before
  // Requests libuv runs in its thread pool: asynchronous file system calls and DNS lookups (crypto
  // jobs are left out: libp2p's synchronous key generation and signing report the same types).
  const pooled = /^(FSREQ|GETADDRINFO|GETNAMEINFO)/;
  const seen: string[] = [];
  const hook = createHook({ init: (_id, type) => void (pooled.test(type) && seen.push(type)) });
  hook.enable();
  let ep: host.Endpoint;
  try {
    ep = await host.startService(repo.root, { owner: 'vscode', logger: silent });
  } finally {
    hook.disable();
  }
  try {
    assert.ok(ep.serving && ep.addresses().length > 0);
    assert.deepEqual(seen, [], 'requests queued in the thread pool before listening');
    // It did read and write what it always does: peer.json has the addresses.
    assert.deepEqual((await host.runningPeer(repo.root))?.addresses, ep.addresses());
  } finally {
    await ep.stop();
  }
  // The check sees a pooled request when there is one.
  hook.enable();
  await host.runningPeer(repo.root);
  hook.disable();
  assert.ok(seen.length > 0, 'an asynchronous read is seen');
});

test('peer-host: invite → clone → push and pull between two repositories, results as plain data', { timeout: 45_000 }, async () => {
  const origin = await namedRepo('origin', { 'readme.md': 'hello\n' });
  const served = await host.startService(origin.root, { owner: 'vscode', logger: silent });
  const progress: string[] = [];
  try {
    assert.throws(() => host.readTicket('nonsense'), (e: host.PlainError) => e.code === 'INVALID_ARGUMENT');
    const invite = await host.createInvite(origin.root, { role: 'writer', expiresInMs: 60_000, addresses: served.addresses() });
    assert.match(invite.ticket, /^pwt1\./);
    assert.equal(host.readTicket(invite.ticket).repoName, 'origin');
    const dir = join(tmp('pw-clone-'), 'copy');
    const cloned = await host.clone(invite.ticket, { dir, logger: silent, onProgress: (p) => progress.push(p.phase) });
    assert.deepEqual([cloned.root, cloned.role, cloned.repositoryName, cloned.commits], [dir, 'writer', 'origin', 1]);
    assert.equal(read(dir, 'readme.md'), 'hello\n');
    assert.ok(progress.includes('receiving') && progress.at(-1) === 'done', progress.join(','));
    // The used ticket is refused, in words.
    await assert.rejects(host.clone(invite.ticket, { dir: join(tmp('pw-clone-'), 'again'), logger: silent }), (e: host.PlainError) => e.code === 'P2P' && /invite/.test(e.message));

    // The clone pushes a commit: the origin's clean work tree fast-forwards.
    const copy = await Repository.open(dir);
    write(dir, 'readme.md', 'hello again\n');
    await add(copy, ['readme.md']);
    await commit(copy, { message: 'from the copy' });
    const client = await host.startClient(dir, { logger: silent });
    try {
      assert.equal(client.serving, false);
      const pushed = await client.push([]);
      assert.equal(pushed.length, 1);
      assert.ok(pushed[0]!.ok);
      assert.equal(pushed[0]!.ok && pushed[0]!.result.outcome, 'updated');
      assert.equal(read(origin.root, 'readme.md'), 'hello again\n');
      // The origin commits; the copy pulls it.
      write(origin.root, 'b.txt', 'b\n');
      await add(origin, ['b.txt']);
      await commit(origin, { message: 'from the origin' });
      const pulled = await client.pull([]);
      assert.equal(pulled[0]!.ok && pulled[0]!.result.integration.kind, 'fast-forward');
      assert.equal(read(dir, 'b.txt'), 'b\n');
      const probes = await client.probe();
      assert.deepEqual(probes.map((p) => p.online), [true]);
      // A peer that is not there: offline, with the reason as a plain error.
      const collaborators = await host.listCollaborators(dir);
      assert.deepEqual(collaborators.map((c) => c.name), ['origin']);
    } finally {
      await client.stop();
    }
  } finally {
    await served.stop();
  }
  const client = await host.startClient(origin.root, { logger: silent });
  try {
    const outcome = await client.fetch([]);
    assert.equal(outcome.length, 1);
    assert.ok(!outcome[0]!.ok && outcome[0]!.offline);
    assert.ok(!outcome[0]!.ok && outcome[0]!.error.name === 'PatchworkError' && /Cannot reach|No address/.test(outcome[0]!.error.message), JSON.stringify(outcome));
  } finally {
    await client.stop();
  }
});

test('peer-host: peer ids and addresses for Add Collaborator are checked before anything is written', () => {
  const id = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA';
  assert.equal(host.peerProblem(id), undefined);
  assert.equal(host.peerIdOf(`/ip4/10.0.0.2/tcp/4100/p2p/${id}`), id);
  assert.match(host.peerProblem('12D3Koo') ?? '', /not a peer id/);
  assert.match(host.peerProblem('/ip4/10.0.0.2/tcp/4100') ?? '', /end in \/p2p/);
  assert.equal(host.addressProblem('/ip4/10.0.0.2/tcp/4100', id), undefined);
  assert.equal(host.addressProblem('', id), undefined);
  assert.match(host.addressProblem('10.0.0.2:4100', id) ?? '', /such as/);
});

test('out/peer.js is its own bundle and out/extension.js does not contain it', () => {
  const ext = readFileSync(join(__dirname, '..', 'extension.js'), 'utf8');
  const peer = readFileSync(join(__dirname, '..', 'peer.js'), 'utf8');
  assert.ok(/libp2p/.test(peer), 'out/peer.js holds the p2p layer');
  assert.ok(!/createLibp2p|@chainsafe/.test(ext));
  assert.ok(ext.includes('out/peer.js'), 'the extension requires the peer bundle by path at run time');
});

test('peer-host: patchwork.mdns / patchwork.bootstrapPeers reach the node (a DHT with the bootstrap list); bad entries are refused in words', { timeout: 30_000 }, async () => {
  const repo = await namedRepo('disco', { 'a.txt': 'a\n' });
  const plain = await host.startService(repo.root, { owner: 'vscode', logger: silent });
  try {
    assert.deepEqual(plain.features, { mdns: false, dht: false, relay: false, relayServer: false }, 'nothing is on unless asked for');
  } finally {
    await plain.stop();
  }
  const bootstrap = ['/ip4/127.0.0.1/tcp/9/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'];
  const ep = await host.startService(repo.root, { owner: 'vscode', logger: silent, discovery: { bootstrap } });
  try {
    assert.equal(ep.features.dht, true);
  } finally {
    await ep.stop();
  }
  const client = await host.startClient(repo.root, { logger: silent, discovery: { bootstrap } });
  try {
    assert.equal(client.features.dht, true, 'the dial-only node looks peers up in the DHT too');
  } finally {
    await client.stop();
  }
  await assert.rejects(
    host.startService(repo.root, { owner: 'vscode', logger: silent, discovery: { bootstrap: ['/ip4/127.0.0.1/tcp/9'] } }),
    (e: host.PlainError) => e.code === 'INVALID_CONFIG' && /patchwork\.bootstrapPeers/.test(e.message),
  );
});
