// Peer discovery with real libp2p nodes on 127.0.0.1: a Kademlia DHT (A finds B by peer id through
// bootstrap node C and pulls), circuit relay v2 (B is reachable only through relay R), mDNS (inside a
// private network namespace, where multicast never leaves the machine), and the rule that discovery
// and relaying never admit anyone: the gate and the handlers decide as before.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Repository } from '../src/engine';
import {
  PeerService,
  addCollaborator,
  createInvite,
  createPeerNode,
  ensureIdentity,
  fetchAll,
  isP2PError,
  listCollaborators,
  pullAll,
  type PeerNode,
  type PeerOutcome,
} from '../src/p2p/index.js';
import {
  DHT_PROTOCOL,
  NO_DISCOVERY,
  discoveryOptions,
  discoverySettings,
  type DiscoveryOptions,
  type DiscoverySettings,
} from '../src/p2p/discovery.js';
import { collectingLogger, head, makeRepo, until, type TestRepo } from './p2p-helpers';

const DEADLINE = { timeout: 60_000 };
const LOOPBACK = ['/ip4/127.0.0.1/tcp/0'];
const CHILD = process.env.PATCHWORK_MDNS_CHILD === '1';

const stoppers: (() => Promise<void>)[] = [];
after(async () => {
  await Promise.all(stoppers.map((s) => s().catch(() => undefined)));
});

interface Running extends TestRepo {
  service: PeerService;
  log: string[];
}

async function run(r: TestRepo, opts: { listen?: string[]; discovery?: Partial<DiscoverySettings>; node?: { discovery?: DiscoveryOptions } } = {}): Promise<Running> {
  const logger = collectingLogger();
  const service = await PeerService.start(r.repo, { listen: opts.listen ?? LOOPBACK, logger, pollMs: 200, discovery: opts.discovery, node: opts.node });
  stoppers.push(() => service.stop());
  return { ...r, service, log: logger.lines };
}

/** A one-shot node like the CLI's pull/push: dial-only, the repository's identity and settings. */
async function oneShot(r: TestRepo, settings: Partial<DiscoverySettings>, known: string[] = []): Promise<PeerNode> {
  const id = await ensureIdentity(r.repo);
  const s = { ...NO_DISCOVERY, ...settings, dht: settings.dht ?? (settings.bootstrap?.length ?? 0) > 0 };
  const node = await createPeerNode({ privateKey: id.privateKey, listen: [], isAllowed: () => false, discovery: discoveryOptions(s, 'dial', known) });
  stoppers.push(() => node.stop());
  return node;
}

/** Make `copy` another copy of `of`'s repository (same repository id), as a clone would be. */
async function sameRepository(copy: TestRepo, of: TestRepo): Promise<TestRepo> {
  const id = (await of.repo.config()).repository.id;
  await copy.repo.updateConfig((c) => {
    c.repository.id = id;
  });
  return { ...copy, repo: await Repository.open(copy.dir) };
}

async function befriend(a: TestRepo, b: TestRepo, name: string, role: 'reader' | 'writer' = 'reader', addresses: string[] = []): Promise<void> {
  await addCollaborator(a.repo, { peerId: b.peerId, name, role, addresses });
}

function outcome<T>(list: PeerOutcome<T>[], name: string): T {
  const o = list.find((x) => x.name === name);
  assert.ok(o, `an outcome for ${name}`);
  if (!o.ok) assert.fail(`${name} failed: ${o.error instanceof Error ? `${(o.error as { code?: string }).code} ${o.error.message}` : String(o.error)}`);
  return o.result;
}

async function addressesOf(r: TestRepo, peerId: string): Promise<string[]> {
  return (await listCollaborators(await Repository.open(r.dir))).find((c) => c.peerId === peerId)?.addresses ?? [];
}

/** The kad-dht routing table size of a running peer (not part of libp2p's public types). */
function routingTableSize(s: PeerService): number {
  const services = s.node.libp2p.services as unknown as { dht?: { routingTable: { size: number } } };
  return services.dht?.routingTable.size ?? 0;
}

if (!CHILD) {
  test('settings: everything is off until configured; lists are validated', () => {
    const base = { repository: { name: 'x', id: 'y', default_branch: 'main' } };
    assert.deepEqual(discoverySettings(base), NO_DISCOVERY);
    assert.equal(discoveryOptions(discoverySettings(base), 'serve'), undefined);
    const id = '12D3KooWLx8DmsnPHZ3Ti3iJHcwuKtcMgiQ2tS7mvTtAzLJc9vYh';
    const s = discoverySettings({ ...base, p2p: { mdns: true, bootstrap: `/ip4/203.0.113.7/tcp/4100/p2p/${id}`, relays: [`/ip4/203.0.113.8/tcp/4100/p2p/${id}`], relay_server: 'true' } });
    assert.deepEqual(s, { mdns: true, dht: true, bootstrap: [`/ip4/203.0.113.7/tcp/4100/p2p/${id}`], relays: [`/ip4/203.0.113.8/tcp/4100/p2p/${id}`], relayServer: true });
    assert.deepEqual(discoveryOptions(s, 'dial'), { mdns: true, dht: { bootstrap: s.bootstrap, mode: 'client' }, relay: { relays: s.relays, listen: false } });
    assert.equal(discoveryOptions(s, 'serve')?.dht?.mode, 'server');
    assert.equal(discoveryOptions(s, 'serve')?.relayServer, true);
    // A circuit address among the addresses in use brings the relay transport along.
    assert.deepEqual(discoveryOptions(NO_DISCOVERY, 'dial', [`/ip4/1.2.3.4/tcp/1/p2p/${id}/p2p-circuit/p2p/${id}`])?.relay, { relays: [], listen: false });
    for (const bad of [{ bootstrap: '/ip4/203.0.113.7/tcp/4100' }, { relays: ['not an address'] }, { mdns: 'yes' }, { bootstrap: 42 }]) {
      assert.throws(() => discoverySettings({ ...base, p2p: bad }), (e: unknown) => (e as { code?: string }).code === 'INVALID_CONFIG', JSON.stringify(bad));
    }
  });

  test('a node without discovery settings loads none of the discovery packages', DEADLINE, async () => {
    const r = await makeRepo('plain');
    const s = await run(r);
    assert.deepEqual(s.service.node.features, { mdns: false, dht: false, relay: false, relayServer: false });
    assert.ok(!s.service.node.libp2p.getProtocols().some((p) => p.includes('kad') || p.includes('circuit')));
    assert.deepEqual(await s.service.node.locate(r.peerId), []);
  });

  test('DHT: A finds B by peer id through bootstrap node C and pulls from B', DEADLINE, async () => {
    const carol = await makeRepo('carol');
    const bob = await makeRepo('bob', { 'hello.txt': 'from bob\n' });
    const alice = await sameRepository(await makeRepo('alice'), bob);
    // C serves the DHT to its collaborators; B knows A; A knows only B's peer id, no address.
    await befriend(carol, alice, 'alice');
    await befriend(carol, bob, 'bob');
    await befriend(bob, alice, 'alice');
    await befriend(alice, bob, 'bob', 'writer');
    const C = await run(carol, { discovery: { dht: true } });
    assert.deepEqual(C.service.node.features, { mdns: false, dht: true, relay: false, relayServer: false });
    assert.ok(C.service.node.libp2p.getProtocols().includes(DHT_PROTOCOL), 'private DHT protocol served');
    assert.ok(!C.service.node.libp2p.getProtocols().includes('/ipfs/kad/1.0.0'), 'never the public DHT');
    const cAddr = C.service.addresses()[0]!;
    const B = await run(bob, { discovery: { bootstrap: [cAddr] } });
    await until(() => routingTableSize(C.service) >= 1, 10_000, 'B in C’s routing table');

    // Without the DHT, A has nowhere to look.
    const blind = await oneShot(alice, {});
    const failed = (await fetchAll(blind, alice.repo, ['bob']))[0]!;
    assert.ok(!failed.ok && failed.offline, 'no address, no discovery: offline');

    const A = await oneShot(alice, { bootstrap: [cAddr] });
    assert.equal(A.features.dht, true);
    const t0 = Date.now();
    const found = await A.locate(bob.peerId);
    const lookupMs = Date.now() - t0;
    assert.ok(found.some((a) => B.service.addresses().includes(a)), `found B's address: ${found.join(', ')}`);
    const pulled = outcome(await pullAll(A, alice.repo, ['bob']), 'bob');
    assert.equal(pulled.integration.kind, 'created');
    assert.equal(await head(alice), await head(bob));
    // The route that worked is now bob's first known address in alice's patchwork.toml.
    assert.ok(B.service.addresses().includes((await addressesOf(alice, bob.peerId))[0]!), 'address learned');
    console.log(`# DHT lookup through a bootstrap node: ${lookupMs} ms`);
  });

  test('DHT: a stranger admitted only for an invite cannot query it; a non-collaborator cannot even connect', DEADLINE, async () => {
    const carol = await makeRepo('carol2');
    const bob = await makeRepo('bob2');
    const dave = await makeRepo('dave2');
    await befriend(carol, bob, 'bob');
    const C = await run(carol, { discovery: { dht: true } });
    const cAddr = C.service.addresses()[0]!;
    await run(bob, { discovery: { bootstrap: [cAddr] } });
    await until(() => routingTableSize(C.service) >= 1, 10_000, 'B in C’s routing table');

    const D = await oneShot(dave, { bootstrap: [cAddr] });
    assert.deepEqual(await D.locate(bob.peerId, { timeoutMs: 3000 }), [], 'refused at the gate: nothing found');
    // While an invite is outstanding the gate lets dave in (he might clone), but not into the DHT.
    await createInvite(carol.repo, { role: 'reader', expiresInMs: 60_000, addresses: [cAddr], peerId: carol.peerId });
    const D2 = await oneShot(dave, { bootstrap: [cAddr] });
    assert.deepEqual(await D2.locate(bob.peerId, { timeoutMs: 3000 }), []);
    assert.ok(D2.libp2p.getConnections().some((c) => c.remotePeer.toString() === carol.peerId), 'dave is connected to C (invite window)');
    assert.ok(C.log.some((l) => l.includes(`refused a DHT query for ${dave.peerId}`)), C.log.join('\n'));
  });

  test('relay: B listens only through relay R; A reaches B through R and pulls (Noise end to end)', DEADLINE, async () => {
    const relay = await makeRepo('relay');
    const big = Buffer.alloc(300 * 1024, 'x').toString(); // beyond circuit v2's default 128 KiB limit
    const bob = await makeRepo('bob3', { 'big.txt': big, 'small.txt': 'hi\n' });
    const alice = await sameRepository(await makeRepo('alice3'), bob);
    const mallory = await sameRepository(await makeRepo('mallory3'), bob);
    await befriend(relay, alice, 'alice');
    await befriend(relay, bob, 'bob');
    await befriend(relay, mallory, 'mallory'); // a collaborator of the relay, not of bob
    await befriend(bob, alice, 'alice');
    await befriend(alice, bob, 'bob', 'writer');
    await befriend(mallory, bob, 'bob');
    const R = await run(relay, { discovery: { relayServer: true } });
    assert.equal(R.service.node.features.relayServer, true);
    const rAddr = R.service.addresses()[0]!;
    // Bob listens nowhere himself: his only address is the circuit through R.
    const B = await run(bob, { listen: [], discovery: { relays: [rAddr] } });
    await until(() => B.service.addresses().some((a) => a.includes('/p2p-circuit')), 10_000, 'a relay slot');
    const circuit = B.service.addresses();
    assert.ok(circuit.every((a) => a.startsWith(`${rAddr}/p2p-circuit/p2p/${bob.peerId}`)), circuit.join(', '));
    // peer.json (what `invite` and one-shot commands advertise) follows.
    const { readPeerFile } = await import('../src/p2p/peer-file.js');
    await until(async () => ((await readPeerFile(bob.repo))?.addresses ?? []).some((a) => a.includes('/p2p-circuit')), 5000, 'peer.json with the circuit address').catch(async (e) => {
      console.log(B.log.join('\n'), JSON.stringify(await readPeerFile(bob.repo)));
      throw e;
    });

    // A knows nothing but the relay (p2p.relays) and B's peer id.
    const A = await oneShot(alice, { relays: [rAddr] });
    const pulled = outcome(await pullAll(A, alice.repo, ['bob']), 'bob');
    assert.equal(pulled.integration.kind, 'created');
    assert.equal(await head(alice), await head(bob));
    const conn = A.libp2p.getConnections().find((c) => c.remotePeer.toString() === bob.peerId);
    assert.ok(conn?.remoteAddr.toString().includes('/p2p-circuit'), 'relayed connection');
    if (!conn) return;
    assert.equal(conn.encryption, '/noise', 'Noise between A and B, through R');
    assert.equal(conn.limits, undefined, 'R imposes no data or time limit on its collaborators');
    assert.ok((await addressesOf(alice, bob.peerId))[0]?.includes('/p2p-circuit'), 'the circuit address is remembered');

    // Another copy that only knows B's circuit address (from an invite, say) needs no relay setting.
    const alice2 = await sameRepository(await makeRepo('alice3b'), bob);
    await befriend(alice2, bob, 'bob', 'writer', circuit);
    await befriend(relay, alice2, 'alice2');
    await befriend(bob, alice2, 'alice2');
    const A2 = await oneShot(alice2, {}, circuit);
    assert.equal(A2.features.relay, true);
    assert.equal(outcome(await fetchAll(A2, alice2.repo, ['bob']), 'bob').commits, 1);

    // Mallory may use the relay but is not bob's collaborator: bob's gate refuses her.
    const M = await oneShot(mallory, { relays: [rAddr] });
    const refused = (await fetchAll(M, mallory.repo, ['bob']))[0]!;
    assert.ok(!refused.ok && isP2PError(refused.error, 'REFUSED'), `mallory refused: ${refused.ok ? 'ok' : String(refused.error)}`);
    assert.ok(B.log.some((l) => l.includes(`refused inbound connection from ${mallory.peerId}`)), B.log.join('\n'));

    // A stranger the relay's gate lets in while an invite is outstanding may neither hold a slot
    // nor be relayed (the relay's reservation and hop checks use the strict collaborator list).
    await createInvite(relay.repo, { role: 'reader', expiresInMs: 60_000, addresses: [rAddr], peerId: relay.peerId });
    const stranger = await sameRepository(await makeRepo('stranger3'), bob);
    await befriend(stranger, bob, 'bob');
    await befriend(bob, stranger, 'stranger'); // even bob's collaborator, if the relay does not know him
    const S = await oneShot(stranger, { relays: [rAddr] });
    const relayed = (await fetchAll(S, stranger.repo, ['bob']))[0]!;
    assert.ok(!relayed.ok, 'not relayed');
    await until(() => R.log.some((l) => l.includes(`refused to relay ${stranger.peerId}`)), 5000, 'the relay’s refusal');
    const S2 = await run(stranger, { listen: [], discovery: { relays: [rAddr] } });
    await until(() => R.log.some((l) => l.includes(`refused a relay reservation from ${stranger.peerId}`)), 10_000, 'reservation refused');
    assert.ok(!S2.service.addresses().some((a) => a.includes('/p2p-circuit')));
  });
}
