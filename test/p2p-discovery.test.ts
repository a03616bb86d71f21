// Peer discovery with real libp2p nodes on 127.0.0.1: a Kademlia DHT (A finds B by peer id through
// bootstrap node C and pulls), circuit relay v2 (B is reachable only through relay R), mDNS (inside a
// private network namespace, where multicast never leaves the machine), and the rule that discovery
// and relaying never admit anyone: the gate and the handlers decide as before.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
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
import { tmp } from './helpers';
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

async function setAddresses(r: TestRepo, peerId: string, addresses: string[]): Promise<void> {
  const c = (await listCollaborators(r.repo)).find((x) => x.peerId === peerId)!;
  await addCollaborator(r.repo, { peerId, name: c.name, role: c.role, addresses });
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

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((done) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => done(port));
    });
  });
}

if (!CHILD) {
  test('relay: a relay that is down does not stop the peer; it gets its slot once the relay is up', DEADLINE, async () => {
    const relay = await makeRepo('relay7');
    const bob = await makeRepo('bob7');
    await befriend(relay, bob, 'bob');
    const rAddr = `/ip4/127.0.0.1/tcp/${await freePort()}/p2p/${relay.peerId}`;
    const t0 = Date.now();
    const B = await run(bob, { node: { discovery: { relay: { relays: [rAddr], retryMs: 300 } } } });
    const startMs = Date.now() - t0;
    assert.ok(startMs < 3000, `start took ${startMs} ms`);
    // The failed reservation is logged soon after the start (which does not wait for it).
    await until(() => B.log.some((l) => l.includes(`relay ${rAddr}: no slot yet`)), 5000, 'the log saying there is no slot yet');
    assert.ok(!B.service.addresses().some((a) => a.includes('/p2p-circuit')));
    await run(relay, { listen: [rAddr.replace(`/p2p/${relay.peerId}`, '')], discovery: { relayServer: true } });
    await until(() => B.service.addresses().some((a) => a.startsWith(`${rAddr}/p2p-circuit`)), 10_000, 'a slot once the relay is up');
    await until(() => B.log.some((l) => l.includes(`relay ${rAddr}: slot reserved`)), 5000, 'the log says so');
  });
}

// ------------------------------------------------------------------ mDNS

if (!CHILD) {
  test('mDNS handler: a collaborator\'s announced address is dialled and, once it proves its id, remembered; strangers and lies are not', DEADLINE, async () => {
    const bob = await makeRepo('bob4', { 'f.txt': 'bob\n' });
    const alice = await sameRepository(await makeRepo('alice4'), bob);
    const stranger = await makeRepo('stranger4');
    const stale = `/ip4/127.0.0.1/tcp/9/p2p/${bob.peerId}`;
    await befriend(alice, bob, 'bob', 'writer', [stale]);
    await befriend(bob, alice, 'alice');
    const A = await run(alice);
    const B = await run(bob);
    const S = await run(stranger);
    const events: string[] = [];
    A.service.onEvent((e) => e.type === 'discovered' && events.push(`${e.name} ${e.address}`));
    const learner = A.service.addressLearner();
    const bAddr = B.service.addresses()[0]!;

    // What anyone on the network can claim: bob is at the stranger's address. Noise says otherwise.
    const lie = S.service.addresses()[0]!.replace(stranger.peerId, bob.peerId);
    assert.equal(await learner.onPeer({ id: bob.peerId, addresses: [lie] }), 'unreachable');
    assert.deepEqual(await addressesOf(alice, bob.peerId), [stale], 'a false claim never reaches patchwork.toml');
    // A stranger is never dialled (its log shows no refusal of alice).
    assert.equal(await learner.onPeer({ id: stranger.peerId, addresses: S.service.addresses() }), 'ignored');
    assert.ok(!S.log.some((l) => l.includes(alice.peerId)), S.log.join('\n'));
    // Bob's real address: dialled, proven, remembered first (the old one stays, in second place).
    assert.equal(await learner.onPeer({ id: bob.peerId, addresses: [bAddr] }), 'recent', 'one look per peer per minute');
    // A new learner (no throttle) as the running peer would have a minute later:
    const learner2 = A.service.addressLearner();
    assert.equal(await learner2.onPeer({ id: bob.peerId, addresses: [bAddr] }), 'learned');
    assert.deepEqual(await addressesOf(alice, bob.peerId), [bAddr, stale]);
    assert.deepEqual(events, [`bob ${bAddr}`]);
    assert.equal(await learner2.onPeer({ id: bob.peerId, addresses: [bAddr] }), 'known', 'nothing new: no dial');
    // A peer announces all its private addresses; while the first known one is among them, no dial.
    assert.equal(await A.service.addressLearner().onPeer({ id: bob.peerId, addresses: [stale.replace('/tcp/9/', '/tcp/19/'), bAddr] }), 'known');
    // ...and the next one-shot pull, with no discovery at all, goes straight there.
    const P = await oneShot(alice, {});
    assert.equal(outcome(await pullAll(P, alice.repo, ['bob']), 'bob').integration.kind, 'created');
  });
}

/**
 * mDNS between real processes' sockets needs multicast, which must not leave this machine: the
 * scenario runs in a child process inside a new network namespace (`unshare -n`) whose only
 * interface is loopback, so every multicast packet stays in it. Skipped where that is not possible.
 */
function netnsProblem(): string | undefined {
  if (process.platform !== 'linux') return 'mDNS test needs Linux network namespaces';
  const probe = spawnSync('unshare', ['-n', '--', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return `cannot create a private network namespace here (unshare -n / ip): ${probe.error?.message ?? probe.stderr.trim()}`;
  return undefined;
}

if (!CHILD) {
  const problem = netnsProblem();
  test('mDNS in a private network namespace: two running peers find each other; a pull uses what was found', { ...DEADLINE, skip: problem }, async () => {
    const child = spawn('unshare', ['-n', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, __filename], {
      env: { ...process.env, PATCHWORK_MDNS_CHILD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    stoppers.push(async () => void child.kill('SIGKILL'));
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const line = out.split('\n').find((l) => l.startsWith('MDNS-RESULT '));
    assert.ok(line, `no result from the namespace (exit ${code}):\n${out}\n${err}`);
    const r = JSON.parse(line.slice('MDNS-RESULT '.length)) as { ok: boolean; error?: string; steps: string[]; learnedMs: number; locateMs: number };
    assert.ok(r.ok, `${r.error}\n${r.steps.join('\n')}\n${err}`);
    console.log(`# mDNS (netns): address learned by the running peer in ${r.learnedMs} ms; one-shot pull located bob in ${r.locateMs} ms`);
  });
} else {
  void mdnsScenario().then(
    (r) => console.log(`MDNS-RESULT ${JSON.stringify(r)}`),
    (e: unknown) => console.log(`MDNS-RESULT ${JSON.stringify({ ok: false, error: e instanceof Error ? e.stack : String(e), steps: [] })}`),
  ).finally(() => setTimeout(() => process.exit(0), 200).unref());
}

async function mdnsScenario(): Promise<{ ok: boolean; error?: string; steps: string[]; learnedMs: number; locateMs: number }> {
  const steps: string[] = [];
  // Refuse to multicast anywhere but an isolated loopback.
  const ifaces = Object.keys(networkInterfaces());
  if (ifaces.join() !== 'lo') throw new Error(`not in an isolated namespace (interfaces: ${ifaces.join(', ')})`);
  const bob = await makeRepo('bob5', { 'f.txt': 'bob\n' });
  const alice = await sameRepository(await makeRepo('alice5'), bob);
  const stranger = await makeRepo('stranger5');
  const stale = `/ip4/127.0.0.1/tcp/9/p2p/${bob.peerId}`;
  await befriend(alice, bob, 'bob', 'writer', [stale]);
  await befriend(bob, alice, 'alice');
  const mdns = { discovery: { mdns: { interval: 500 } } };
  const A = await run(alice, { node: mdns });
  assert.equal(A.service.node.features.mdns, true, 'mDNS service started');
  const t0 = Date.now();
  const B = await run(bob, { node: mdns });
  const S = await run(stranger, { node: mdns });
  const bAddr = B.service.addresses()[0]!;
  await until(async () => (await addressesOf(alice, bob.peerId))[0] === bAddr, 15_000, 'alice’s peer learning bob’s address');
  const learnedMs = Date.now() - t0;
  steps.push(`learned ${bAddr} in ${learnedMs} ms`);
  assert.ok(A.log.some((l) => l.includes(`found bob (${bob.peerId}) on the local network`)), A.log.join('\n'));
  // The stranger answered too, but nobody dialled it.
  assert.ok(!S.log.some((l) => l.includes('refused')), S.log.join('\n'));

  // A one-shot pull with mDNS on, after bob's address went stale again: found on the LAN.
  await setAddresses(alice, bob.peerId, [stale]);
  const blind = await oneShot(alice, {});
  const failed = (await fetchAll(blind, alice.repo, ['bob']))[0]!;
  assert.ok(!failed.ok && failed.offline, 'without mDNS the stale address leads nowhere');
  const P = await oneShot(alice, { mdns: true });
  const t1 = Date.now();
  const pulled = outcome(await pullAll(P, alice.repo, ['bob']), 'bob');
  const locateMs = Date.now() - t1;
  assert.equal(pulled.integration.kind, 'created');
  assert.equal(await head(alice), await head(bob));
  assert.equal((await addressesOf(alice, bob.peerId))[0], bAddr);
  steps.push(`one-shot pull via mDNS in ${locateMs} ms`);
  await Promise.all(stoppers.map((s) => s().catch(() => undefined)));
  return { ok: true, steps, learnedMs, locateMs };
}

// ------------------------------------------------------------------ the CLI, in real processes

const CLI = resolve(process.env.PATCHWORK_CLI ?? 'out/cli.js');

function cliEnv(name: string): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, PATCHWORK_AUTHOR_NAME: name, PATCHWORK_AUTHOR_EMAIL: `${name}@example.org`, NO_COLOR: '1' };
  delete e.PATCHWORK_DATE;
  return e;
}

function cli(who: string, cwd: string, ...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: cliEnv(who), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, out, err });
    });
  });
}

async function cliOk(who: string, cwd: string, ...args: string[]): Promise<string> {
  const r = await cli(who, cwd, ...args);
  if (r.code !== 0) throw new Error(`patchwork ${args.join(' ')} exited ${r.code}\n${r.out}${r.err}`);
  return r.out;
}

/** `patchwork start …` in the background, until it prints "Press Ctrl-C"; stopped after the test. */
function cliStart(who: string, cwd: string, ...args: string[]): Promise<{ addresses: string[]; peerId: string; out: () => string; err: () => string; stop(): Promise<void> }> {
  return new Promise((done, reject) => {
    const child: ChildProcess = spawn(process.execPath, [CLI, 'start', '--listen', '/ip4/127.0.0.1/tcp/0', ...args], { cwd, env: cliEnv(who), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const closed = new Promise<void>((r) => child.on('close', () => r()));
    const stop = async () => {
      child.kill('SIGINT');
      await closed;
    };
    stoppers.push(stop);
    const timer = setTimeout(() => reject(new Error(`start did not come up:\n${out}${err}`)), 15_000);
    child.stderr!.on('data', (d: Buffer) => (err += d));
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (!out.includes('Press Ctrl-C to stop.')) return;
      clearTimeout(timer);
      done({
        addresses: [...out.matchAll(/^ {2}(\/ip4\/\S+)$/gm)].map((m) => m[1]!),
        peerId: /as peer (\S+)/.exec(out)![1]!,
        out: () => out,
        err: () => err,
        stop,
      });
    });
  });
}

if (!CHILD) {
  test('CLI: start --dht / --bootstrap / --relay-server / --relay; pull finds a moved peer through the DHT, then through the relay', { timeout: 90_000 }, async () => {
    const infra = tmp('pw-infra-');
    await cliOk('carol', infra, 'init', 'infra');
    const bobDir = tmp('pw-bob6-');
    await cliOk('bob', bobDir, 'init', 'project');
    appendFileSync(join(bobDir, 'a.txt'), 'one\n');
    await cliOk('bob', bobDir, 'add', '.');
    await cliOk('bob', bobDir, 'commit', '-m', 'one');
    const bobId = (await cliOk('bob', bobDir, 'id')).trim();
    // The team's always-on node serves the DHT and relays, for its collaborators only.
    await cliOk('carol', infra, 'collaborators', 'add', bobId, 'bob');
    const C = await cliStart('carol', infra, '--dht', '--relay-server');
    assert.match(C.out(), /^Discovery: DHT, relay server\.$/m);
    const cAddr = C.addresses[0]!;

    let B = await cliStart('bob', bobDir, '--bootstrap', cAddr);
    const ticket = (await cliOk('bob', bobDir, 'invite', '--role', 'writer')).trim();
    const aliceHome = tmp('pw-alice6-');
    await cliOk('alice', aliceHome, 'clone', ticket, '--name', 'alice');
    const aliceDir = join(aliceHome, 'project');
    const aliceId = (await cliOk('alice', aliceDir, 'id')).split('\n')[0]!.trim();
    await cliOk('carol', infra, 'collaborators', 'add', aliceId, 'alice');

    // Bob moves: a new port, a new commit. Alice's copy only knows the old address.
    await B.stop();
    appendFileSync(join(bobDir, 'a.txt'), 'two\n');
    await cliOk('bob', bobDir, 'commit', '-am', 'two');
    B = await cliStart('bob', bobDir, '--bootstrap', cAddr);
    const offline = await cli('alice', aliceDir, 'pull');
    assert.match(offline.out, /offline/, 'no discovery: bob is offline');
    await cliOk('alice', aliceDir, 'config', 'p2p.bootstrap', cAddr);
    const pulled = await cliOk('alice', aliceDir, 'pull');
    assert.match(pulled, /^bob: 1 new commit .*main fast-forwarded/m);
    assert.match(await cliOk('alice', aliceDir, 'collaborators'), new RegExp(B.addresses[0]!.replace(/[/.]/g, '\\$&')));

    // Bob moves again and now also holds a slot on the relay; alice tries the relay instead.
    await B.stop();
    appendFileSync(join(bobDir, 'a.txt'), 'three\n');
    await cliOk('bob', bobDir, 'commit', '-am', 'three');
    B = await cliStart('bob', bobDir, '--relay', cAddr);
    await until(() => /now reachable at .*\/p2p-circuit/.test(B.err()), 10_000, 'bob’s relay slot');
    await cliOk('alice', aliceDir, 'config', 'p2p.bootstrap', '');
    await cliOk('alice', aliceDir, 'config', 'p2p.relays', cAddr);
    const relayed = await cliOk('alice', aliceDir, 'pull');
    assert.match(relayed, /^bob: 1 new commit .*main fast-forwarded/m);
    assert.match(await cliOk('alice', aliceDir, 'collaborators'), /\/p2p-circuit\/p2p\//, 'the relayed route is remembered');
    assert.match(B.err(), new RegExp(`fetch by alice \\(${aliceId}\\)`));
  });
}
