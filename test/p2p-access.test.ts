// Who may clone, fetch and push: decided on the authenticated peer id, at the connection gate and in
// every handler; invites are one-time and expire; removing a collaborator cuts them off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Repository } from '../src/engine';
import {
  P2PError,
  clone,
  decodeTicket,
  describeSyncError,
  encodeTicket,
  fetchFrom,
  isP2PError,
  listCollaborators,
  pushTo,
  removeCollaborator,
  targetOf,
  type PeerTarget,
} from '../src/p2p/index.js';
import { fixedEnv, snapshot, tmp } from './helpers';
import { DEADLINE, clientNode, commitFiles, invite, isRefused, makeRepo, rejects, serve, until } from './p2p-helpers';

fixedEnv();

const targetFor = (s: { peerId: string; addresses: string[] }, name = 'alice'): PeerTarget => ({ peerId: s.peerId, name, addresses: s.addresses });

test('an unknown peer is refused at clone, fetch and push, and the owner logs who it was', DEADLINE, async () => {
  const alice = await makeRepo('alice', { 'a.txt': 'secret plans\n' });
  const a = await serve(alice);
  const mallory = await makeRepo('mallory', { 'm.txt': 'x\n' });
  const node = await clientNode(mallory);
  const before = snapshot(alice.dir);

  // No invite outstanding: the gate closes the connection right after the handshake.
  const e1 = await rejects(fetchFrom(node, mallory.repo, targetFor(a)), isRefused, 'fetch');
  assert.equal((e1 as P2PError).data.atGate, true);
  await rejects(pushTo(node, mallory.repo, targetFor(a)), isRefused, 'push');
  const where = tmp();
  await rejects(clone(a.addresses[0]!, { cwd: where, dir: 'copy' }), isRefused, 'clone');
  assert.deepEqual(readdirSync(where), []);
  assert.ok(a.log.some((l) => l.includes(`refused inbound connection from ${mallory.peerId}`)), a.log.join('\n'));
  assert.ok(a.events.some((e) => e.type === 'refused' && e.peer === mallory.peerId));
  // The message a person sees says what happened and what to do.
  const said = describeSyncError(e1, 'alice');
  assert.match(said.message, /alice refused the connection: .* not one of its collaborators/);
  assert.match(said.hint ?? '', /invite/);

  // While an invite is outstanding unknown peers pass the gate (to reach clone) but every handler
  // still refuses them: fetch and push by "not a collaborator", clone without the secret too.
  await invite(a);
  await node.disconnect(alice.peerId);
  const e2 = await rejects(fetchFrom(node, mallory.repo, targetFor(a)), isRefused, 'fetch with invite outstanding');
  assert.equal((e2 as P2PError).remote, true);
  assert.match((e2 as Error).message, /not a collaborator of alice/);
  await rejects(pushTo(node, mallory.repo, targetFor(a)), isRefused, 'push with invite outstanding');
  await rejects(clone(a.addresses[0]!, { cwd: where, dir: 'copy2' }), (e) => isRefused(e) && /not a collaborator of alice/.test((e as Error).message), 'clone without secret');
  assert.deepEqual(readdirSync(where), []);
  assert.deepEqual(snapshot(alice.dir), new Map([...before, ...[...snapshot(alice.dir)].filter(([p]) => p === '.patch/invites.json')]));
  assert.ok(a.log.some((l) => /refused .*fetch.* from/.test(l) || l.includes(`refused ${mallory.peerId} on /patchwork/fetch`)), a.log.join('\n'));
});

test('a reader can fetch but is refused at push; the repository is unchanged', DEADLINE, async () => {
  const alice = await makeRepo('alice', { 'a.txt': '1\n' });
  const a = await serve(alice);
  const r = await clone(await invite(a, 'reader'), { cwd: tmp(), name: 'rita' });
  const rita = { dir: r.root, repo: await Repository.open(r.root), peerId: r.peerId };
  await commitFiles(rita.dir, { 'a.txt': '1\nrita\n' }, 'rita: change');
  const node = await clientNode(rita);
  const target = targetOf((await listCollaborators(rita.repo))[0]!);
  await fetchFrom(node, rita.repo, target);
  const before = snapshot(alice.dir);
  const e = await rejects(pushTo(node, rita.repo, target), isRefused, 'reader push');
  assert.match((e as Error).message, /rita is a reader of alice: only writers may push/);
  assert.deepEqual(snapshot(alice.dir), before);
  assert.ok(a.events.some((ev) => ev.type === 'refused' && ev.protocol === 'push' && ev.name === 'rita'));
});

test('removing a collaborator closes their connections and refuses their next request', DEADLINE, async () => {
  const alice = await makeRepo('alice', { 'a.txt': '1\n' });
  const a = await serve(alice, { pollMs: 5000 });
  const r = await clone(await invite(a), { cwd: tmp(), name: 'bob' });
  const bob = { dir: r.root, repo: await Repository.open(r.root), peerId: r.peerId };
  const node = await clientNode(bob);
  const target = targetOf((await listCollaborators(bob.repo))[0]!);
  await fetchFrom(node, bob.repo, target);
  assert.equal(node.libp2p.getConnections().length, 1, 'bob stays connected after a fetch');
  // Changed through the configuration file, as `patchwork collaborators remove` in another process
  // does: the running peer's file watcher notices and disconnects (the poll is 5 s, far slower).
  await removeCollaborator(alice.repo, 'bob');
  await until(() => node.libp2p.getConnections().length === 0, 3000, "bob's connection to close");
  assert.ok(a.events.some((e) => e.type === 'access-changed' && e.disconnected.includes(bob.peerId)));
  const e = await rejects(fetchFrom(node, bob.repo, target), isRefused, 'fetch after removal');
  assert.equal((e as P2PError).data.atGate, true);
  await rejects(pushTo(node, bob.repo, target), isRefused, 'push after removal');
});

test('the connection gate sees a removal at once, with no file watching at all', DEADLINE, async () => {
  const alice = await makeRepo('alice', { 'a.txt': '1\n' });
  const a = await serve(alice, { watch: false });
  const r = await clone(await invite(a, 'reader'), { cwd: tmp(), name: 'bob' });
  const bob = { dir: r.root, repo: await Repository.open(r.root), peerId: r.peerId };
  const node = await clientNode(bob);
  await fetchFrom(node, bob.repo, targetFor(a));
  await node.disconnect(alice.peerId);
  await removeCollaborator(alice.repo, bob.peerId);
  await rejects(fetchFrom(node, bob.repo, targetFor(a)), isRefused, 'fetch right after removal');
});

test('an invite works once: a reused, expired, or foreign ticket is refused', DEADLINE, async () => {
  const alice = await makeRepo('alice', { 'a.txt': '1\n' });
  const a = await serve(alice);
  const ticket = await invite(a, 'writer');
  const where = tmp();
  await clone(ticket, { cwd: where, dir: 'first', name: 'bob' });
  // Reused by someone else (a new identity): with no other invite outstanding the gate admits no
  // stranger, and the cloner is told the invite is no longer accepted.
  const e = await rejects(clone(ticket, { cwd: where, dir: 'second', name: 'eve' }), isRefused, 'reuse');
  assert.match((e as Error).message, /no longer accepts this invite/);
  assert.match(describeSyncError(e, 'alice').hint ?? '', /new invite/);
  // With another invite outstanding the clone handler itself answers, precisely.
  await invite(a, 'reader');
  const e1 = await rejects(clone(ticket, { cwd: where, dir: 'second', name: 'eve' }), isRefused, 'reuse');
  assert.match((e1 as Error).message, /already used/);
  assert.deepEqual(readdirSync(where), ['first']);
  assert.deepEqual((await listCollaborators(alice.repo)).map((c) => c.name), ['bob']);

  // Expired: the cloner notices from the ticket itself without dialling...
  const short = await invite(a, 'writer', 200);
  await new Promise((r) => setTimeout(r, 300));
  await assert.rejects(clone(short, { cwd: where, dir: 'late' }), /expired/);
  // ...and the owner refuses it even when the ticket's own expiry was tampered with.
  const forged = encodeTicket({ ...decodeTicket(short), expires: Date.now() + 3600_000 });
  const e2 = await rejects(clone(forged, { cwd: where, dir: 'late' }), isRefused, 'expired');
  assert.match((e2 as Error).message, /expired/);
  // A guessed secret is refused too.
  const guessed = encodeTicket({ ...decodeTicket(short), secret: Buffer.alloc(32, 7).toString('base64url'), expires: Date.now() + 3600_000 });
  await rejects(clone(guessed, { cwd: where, dir: 'guess' }), (x) => isRefused(x) && /not valid/.test((x as Error).message), 'guessed');
  // A ticket for another repository (same peer) is refused.
  const other = encodeTicket({ ...decodeTicket(await invite(a)), repoId: 'another-repository' });
  await rejects(clone(other, { cwd: where, dir: 'other' }), (x) => isRefused(x) && /not the one in your ticket/.test((x as Error).message), 'foreign');
  assert.deepEqual(readdirSync(where), ['first']);
  assert.deepEqual((await listCollaborators(alice.repo)).map((c) => c.name), ['bob']);
  // Only a hash of each secret is stored, in a private file.
  const stored = readFileSync(join(alice.dir, '.patch/invites.json'), 'utf8');
  assert.doesNotMatch(stored, new RegExp(decodeTicket(ticket).secret));
  assert.equal(statSync(join(alice.dir, '.patch/invites.json')).mode & 0o777, 0o600);
  assert.ok(isP2PError(e2));
});
