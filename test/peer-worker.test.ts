// The peer worker (no VS Code): the extension runs out/peer.js in a worker thread
// (out/peer-worker.js) and calls it through messages (src/extension/peer-rpc*.ts). These tests
// drive a real worker the way the extension does: a serving node and a dial-only one, invite →
// clone with progress, push and pull, a serving node's events and addresses, log lines, errors
// with their code and hint, cancellation, the V8 code cache (and its key), and a worker that dies.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Repository, add, commit } from '../src/engine';
import { CachedBundle } from '../src/extension/codeCache';
import type { Log } from '../src/extension/log';
import { PeerWorkerClient, type WorkerLike } from '../src/extension/peer-rpc-client';
import { PeerHostLoader } from '../src/extension/peerHost';
import type { ServiceEvent } from '../src/extension/peer-host';
import { errorFromWire, fromWire, toWire, wireError } from '../src/extension/peer-rpc';
import { namedRepo, read, tmp, write } from './helpers';

const out = join(__dirname, '..');
const entry = join(out, 'peer-worker.js');
const bundle = join(out, 'peer.js');

function startWorker(cacheDir?: string): PeerWorkerClient {
  return PeerWorkerClient.start(entry, { bundle, cacheDir });
}

function recorder() {
  const lines: string[] = [];
  const line = (level: string) => (m: string) => lines.push(`${level}: ${m}`);
  return { lines, logger: { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') } };
}

async function waitFor(what: string, condition: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('errors cross as their code, message, hint and data; results keep their plain data', () => {
  const e = Object.assign(new Error('The peer cannot listen.'), { name: 'PatchworkError', code: 'P2P', hint: 'Choose another port.', data: { listen: '/ip4/127.0.0.1/tcp/1' } });
  const back = errorFromWire(structuredClone(wireError(e))) as Error & { code?: string; hint?: string; data?: Record<string, unknown> };
  assert.deepEqual([back.name, back.message, back.code, back.hint, back.data], ['PatchworkError', 'The peer cannot listen.', 'P2P', 'Choose another port.', { listen: '/ip4/127.0.0.1/tcp/1' }]);
  const outcome = [{ peer: 'p', ok: false, offline: true, error: e }, { peer: 'q', ok: true, result: { commits: 1, changed: ['a'] } }];
  const revived = fromWire(structuredClone(toWire(outcome))) as typeof outcome;
  assert.ok(revived[0]!.error instanceof Error);
  assert.equal((revived[0]!.error as Error & { code?: string }).code, 'P2P');
  assert.deepEqual(revived[1], outcome[1]);
});

test('the worker serves, clones, pushes and pulls as the in-process module does', { timeout: 60_000 }, async () => {
  const client = startWorker();
  try {
    const ready = await client.ready;
    assert.ok(ready.loadMs > 0 && ready.codeCache === 'off', JSON.stringify(ready));
    const origin = await namedRepo('origin', { 'readme.md': 'hello\n' });
    const log = recorder();
    const served = await client.host.startService(origin.root, { owner: 'vscode', logger: log.logger });
    const events: ServiceEvent[] = [];
    served.onEvent((e) => events.push(e));
    try {
      assert.ok(served.serving);
      assert.ok(served.readyAt > 0 && served.readyAt <= performance.now() + 1);
      for (const a of served.addresses()) assert.match(a, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);
      assert.ok(log.lines.some((l) => /listening on/.test(l)), `the service's log lines reach the extension: ${log.lines.join(' | ')}`);
      // Same process: runningPeer says the serving peer is "here".
      const running = await client.host.runningPeer(origin.root);
      assert.deepEqual([running?.owner, running?.here, running?.peerId], ['vscode', true, served.peerId]);
      // Errors keep their code, data and hint.
      await assert.rejects(client.host.startService(origin.root, { owner: 'vscode', logger: log.logger }), (e: Error & { code?: string; data?: { pid?: unknown } }) => e.name === 'PatchworkError' && e.code === 'LOCKED' && typeof e.data?.pid === 'number');
      await assert.rejects(client.host.listenAddress('localhost', 0), (e: Error & { code?: string }) => e.code === 'INVALID_CONFIG' && /not an IP address/.test(e.message));
      assert.equal(await client.host.listenAddress('127.0.0.1', 0), '/ip4/127.0.0.1/tcp/0');
      assert.match((await client.host.peerProblem('12D3Koo')) ?? '', /not a peer id/);
      assert.equal(await client.host.peerProblem(served.peerId), undefined);

      const invite = await client.host.createInvite(origin.root, { role: 'writer', expiresInMs: 60_000, addresses: served.addresses() });
      assert.equal((await client.host.readTicket(invite.ticket)).repoName, 'origin');
      await assert.rejects(client.host.readTicket('nonsense'), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT');
      const dir = join(tmp('pw-clone-'), 'copy');
      const phases: string[] = [];
      const cloned = await client.host.clone(invite.ticket, { dir, logger: recorder().logger, onProgress: (p) => phases.push(p.phase) });
      assert.deepEqual([cloned.root, cloned.role, cloned.commits], [dir, 'writer', 1]);
      assert.equal(read(dir, 'readme.md'), 'hello\n');
      assert.equal(phases.at(-1), 'done', `progress reaches the extension: ${phases.join(',')}`);
      await waitFor('the clone event', () => events.some((e) => e.type === 'cloned'));

      const copy = await Repository.open(dir);
      write(dir, 'readme.md', 'hello again\n');
      await add(copy, ['readme.md']);
      await commit(copy, { message: 'from the copy' });
      const dialer = await client.host.startClient(dir, { logger: recorder().logger });
      try {
        assert.equal(dialer.serving, false);
        const pushed = await dialer.push([]);
        assert.equal(pushed[0]!.ok && pushed[0]!.result.outcome, 'updated');
        assert.equal(read(origin.root, 'readme.md'), 'hello again\n');
        await waitFor('the push event', () => events.some((e) => e.type === 'pushed'));
        write(origin.root, 'b.txt', 'b\n');
        await add(origin, ['b.txt']);
        await commit(origin, { message: 'from the origin' });
        const pulled = await dialer.pull([], { onProgress: () => undefined });
        assert.equal(pulled[0]!.ok && pulled[0]!.result.integration.kind, 'fast-forward');
        assert.equal(read(dir, 'b.txt'), 'b\n');
        assert.deepEqual((await dialer.probe()).map((p) => p.online), [true]);
        // Cancelled before it starts: nothing moves, and the outcome says why.
        const ac = new AbortController();
        ac.abort(new Error('cancelled'));
        const cancelled = await dialer.fetch([], { signal: ac.signal });
        assert.equal(cancelled.length, 1);
        assert.ok(!cancelled[0]!.ok, JSON.stringify(cancelled));
      } finally {
        await dialer.stop();
      }
    } finally {
      await served.stop();
    }
    assert.equal(existsSync(join(origin.patchDir, 'peer.json')), false, 'peer.json released on stop');
    await assert.rejects(served.fetch([]), /stopped/);
  } finally {
    await client.terminate();
  }
});

test('the worker writes the V8 code cache once asked, and the next worker uses it', { timeout: 60_000 }, async () => {
  const cacheDir = tmp('pw-code-cache-');
  const first = startWorker(cacheDir);
  try {
    assert.equal((await first.ready).codeCache, 'none');
    assert.equal(await first.saveCodeCache(), true);
    assert.equal(await first.saveCodeCache(), true, 'asking again is harmless');
  } finally {
    await first.terminate();
  }
  const files = readdirSync(cacheDir);
  assert.equal(files.length, 1, files.join(', '));
  assert.match(files[0]!, /^peer\.js\.[0-9a-f]{24}\.v8cache$/);
  const second = startWorker(cacheDir);
  try {
    assert.equal((await second.ready).codeCache, 'used');
    assert.equal(await second.saveCodeCache(), false, 'a cache that was used is not written again');
    // The module works when compiled from the cache.
    assert.equal(await second.host.listenAddress('::1', 4100), '/ip6/::1/tcp/4100');
  } finally {
    await second.terminate();
  }
});

test('the code cache follows the bundle: one of the same length but other bytes is not given the old cache', async () => {
  const dir = tmp('pw-cache-key-');
  const cacheDir = join(dir, 'cache');
  const file = join(dir, 'bundle.js');
  writeFileSync(file, 'exports.answer = function () { return 41; };\n');
  const first = CachedBundle.readSync(file, cacheDir);
  assert.equal(first.run<{ answer(): number }>().answer(), 41);
  assert.equal(first.state, 'none');
  assert.equal(await first.save(), true);
  const again = CachedBundle.readSync(file, cacheDir);
  assert.equal(again.run<{ answer(): number }>().answer(), 41);
  assert.equal(again.state, 'used');
  // Same length, other code: V8 alone would accept the old cache (it checks the length).
  writeFileSync(file, 'exports.answer = function () { return 42; };\n');
  const rebuilt = CachedBundle.readSync(file, cacheDir);
  assert.equal(rebuilt.run<{ answer(): number }>().answer(), 42);
  assert.equal(rebuilt.state, 'none');
  assert.equal(await rebuilt.save(), true);
  assert.deepEqual(readdirSync(cacheDir).filter((n) => n.endsWith('.v8cache')).length, 1, 'the stale cache is removed');
});

test('a worker that dies fails what was pending in words and says so once', async () => {
  class FakeWorker extends EventEmitter implements WorkerLike {
    posted: unknown[] = [];
    postMessage(m: unknown): void {
      this.posted.push(m);
    }
    terminate(): Promise<number> {
      this.emit('exit', 1);
      return Promise.resolve(1);
    }
  }
  const w = new FakeWorker();
  const client = new PeerWorkerClient(w);
  const exits: string[] = [];
  client.onExit = (e) => exits.push(e.message);
  w.emit('message', { t: 'ready', loadMs: 1, codeCache: 'off', at: performance.timeOrigin + performance.now() });
  const pending = client.host.listCollaborators('/nowhere');
  assert.equal(w.posted.length, 1);
  w.emit('exit', 7);
  await assert.rejects(pending, /stopped unexpectedly \(exit code 7\)/);
  await assert.rejects(client.host.peerId('/nowhere'), /stopped unexpectedly/);
  assert.deepEqual(exits, ['The peer-to-peer worker stopped unexpectedly (exit code 7).']);
  assert.equal(client.stopped, true);
});

test('stopIfIdle ends a worker nothing runs in (no repository was found), leaves a busy one alone, and load() starts a new one', { timeout: 60_000 }, async () => {
  const lines: string[] = [];
  const log = { info: (m: string) => lines.push(m), debug() {}, warn() {}, error: (m: string) => lines.push(`error: ${m}`) } as unknown as Log;
  const loader = new PeerHostLoader(bundle, log);
  assert.equal(await loader.stopIfIdle(), false, 'no worker yet: nothing to end');
  const first = await loader.load();
  assert.equal(await loader.stopIfIdle(() => false), false, 'not idle by the caller\'s account');
  // A serving node runs in it: busy.
  const repo = await namedRepo('idle', { 'a.txt': 'a\n' });
  const ep = await first.startService(repo.root, { owner: 'vscode', logger: { debug() {}, info() {}, warn() {}, error() {} } });
  assert.equal(await loader.stopIfIdle(), false, 'a node runs in it');
  assert.equal(loader.current, first);
  await ep.stop();
  assert.equal(await loader.stopIfIdle(), true);
  assert.equal(loader.current, undefined);
  await assert.rejects(first.peerId(repo.root), /worker was stopped/);
  // The next use starts a new worker, which works.
  const second = await loader.load();
  assert.notEqual(second, first);
  assert.equal(await second.peerId(repo.root), ep.peerId);
  await loader.terminate();
  assert.deepEqual(lines.filter((l) => l.startsWith('error')), [], 'an intended stop is not reported as a failure');
});
