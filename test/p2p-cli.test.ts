// The seed's two-peer example with real processes on 127.0.0.1: Alice inits, commits and runs
// `patchwork start`; Bob clones with an invite, changes a file, commits and pushes; Alice's work tree
// shows Bob's change. Plus what only separate processes show: the second `start`, a revocation made
// by another process, and a clean stop on SIGINT.
//
// The CLI under test is PATCHWORK_CLI (default out/cli.js, which `npm test` builds first).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { read, tmp } from './helpers';

const CLI = resolve(process.env.PATCHWORK_CLI ?? 'out/cli.js');
const DEADLINE = { timeout: 50_000 };

interface Result {
  code: number | null;
  out: string;
  err: string;
}

function env(name: string): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, PATCHWORK_AUTHOR_NAME: name, PATCHWORK_AUTHOR_EMAIL: `${name.toLowerCase()}@example.org`, NO_COLOR: '1' };
  delete e.PATCHWORK_DATE;
  return e;
}

const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

function run(who: string, cwd: string, ...args: string[]): Promise<Result> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: env(who), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolveRun({ code, out, err });
    });
  });
}

async function ok(who: string, cwd: string, ...args: string[]): Promise<Result> {
  const r = await run(who, cwd, ...args);
  if (r.code !== 0) throw new Error(`patchwork ${args.join(' ')} exited ${r.code}\n${r.out}${r.err}`);
  return r;
}

interface Running {
  child: ChildProcess;
  addresses: string[];
  peerId: string;
  log: () => string;
  stop(signal?: NodeJS.Signals): Promise<Result>;
}

/** `patchwork start` in the background; resolves once it prints its addresses. */
function start(who: string, cwd: string): Promise<Running> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(process.execPath, [CLI, 'start', '--listen', '/ip4/127.0.0.1/tcp/0'], { cwd, env: env(who), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let err = '';
    const closed = new Promise<Result>((r) => child.on('close', (code) => (children.delete(child), r({ code, out, err }))));
    const timer = setTimeout(() => reject(new Error(`start did not come up:\n${out}${err}`)), 15_000);
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (!out.includes('Press Ctrl-C to stop.')) return;
      clearTimeout(timer);
      const addresses = [...out.matchAll(/^ {2}(\/ip4\/\S+)$/gm)].map((m) => m[1]!);
      const peerId = /as peer (\S+)/.exec(out)![1]!;
      resolveStart({
        child,
        addresses,
        peerId,
        log: () => err,
        stop: (signal = 'SIGINT') => {
          child.kill(signal);
          return closed;
        },
      });
    });
    void closed.then((r) => reject(new Error(`start exited early (${r.code}):\n${r.out}${r.err}`)));
  });
}

test("the seed's two-peer example, with real processes", DEADLINE, async () => {
  const alice = tmp('pw-alice-');
  const init = await ok('Alice', alice, 'init', 'alice');
  assert.match(init.out, /^Peer id: 12D3KooW\S+$/m);
  mkdirSync(join(alice, 'src'));
  writeFileSync(join(alice, 'src/main.rs'), 'fn main() { println!("Hello from Patchwork"); }\n');
  await ok('Alice', alice, 'add', 'src/main.rs');
  await ok('Alice', alice, 'commit', '-m', 'Add initial main file');
  const peer = await start('Alice', alice);
  assert.equal(peer.addresses.length, 1);
  assert.ok(peer.addresses[0]!.endsWith(`/p2p/${peer.peerId}`));

  // A second peer for the same repository says where the first one runs.
  const second = await run('Alice', alice, 'start', '--listen', '/ip4/127.0.0.1/tcp/0');
  assert.equal(second.code, 1);
  assert.match(second.err, new RegExp(`already running \\(process ${peer.child.pid}\\), listening on ${peer.addresses[0]!.replace(/[/.]/g, '\\$&')}`));

  const ticket = (await ok('Alice', alice, 'invite', '--role', 'writer')).out.trim();
  assert.match(ticket, /^pwt1\.\S+$/);

  const bobHome = tmp('pw-bob-');
  const cloned = await ok('Bob', bobHome, 'clone', ticket, '--name', 'bob', '--progress');
  assert.match(cloned.out, /^Cloned "alice" from Alice into .*: 1 commit, 4 objects/m);
  // Progress goes to stderr, one line per phase when stderr is not a terminal and --progress is given.
  assert.match(cloned.err, /^alice: connecting\n(.*\n)*alice: receiving.*\n(.*\n)*alice: checkout\n(.*\n)*alice: done 4 objects, \d+ B\n$/m);
  const bob = join(bobHome, 'alice');
  assert.equal(read(bob, 'src/main.rs'), 'fn main() { println!("Hello from Patchwork"); }\n');

  appendFileSync(join(bob, 'src/main.rs'), '// change by peer 2\n');
  await ok('Bob', bob, 'add', 'src/main.rs');
  await ok('Bob', bob, 'commit', '-m', 'Update main file from peer 2');
  const pushed = await ok('Bob', bob, 'push');
  assert.match(pushed.out, /^Alice: main updated \(4 objects, .*\); Alice's work tree was updated too$/m);

  // Alice sees Bob's commit in her work tree (no checkout needed: the push moved it).
  assert.equal(read(alice, 'src/main.rs'), 'fn main() { println!("Hello from Patchwork"); }\n// change by peer 2\n');
  assert.match((await ok('Alice', alice, 'log', '--oneline')).out, /^[0-9a-f]{7} \(HEAD -> main\) Update main file from peer 2\n[0-9a-f]{7} Add initial main file\n$/);
  assert.equal((await ok('Alice', alice, 'status', '--short')).out, '');
  assert.match(peer.log(), /clone by bob \(\S+\) with an invite, now a writer/);
  assert.match(peer.log(), /push by bob \(\S+\): 1 new commit, 4 objects; main: updated/);

  // Bob sees alice online; alice lists bob as a writer.
  assert.match((await ok('Bob', bob, 'peers')).out, /^Alice\s+writer\s+…\S+\s+online \(\d+ ms\)\s+last seen now$/m);
  assert.match((await ok('Alice', alice, 'collaborators')).out, /^bob\s+writer 12D3KooW/m);

  // Alice revokes bob from another process; her running peer refuses his next pull and logs it.
  await ok('Alice', alice, 'collaborators', 'remove', 'bob');
  const refused = await run('Bob', bob, 'pull');
  assert.equal(refused.code, 1);
  assert.match(refused.out, /^Alice: error: Alice refused the connection: this repository's peer is not one of its collaborators\.$/m);
  assert.match(peer.log(), /refused inbound connection from 12D3KooW\S+: not a collaborator/);

  // Ctrl-C stops the peer cleanly and frees the repository's peer slot.
  const stopped = await peer.stop('SIGINT');
  assert.equal(stopped.code, 0, stopped.err);
  assert.match(stopped.out, /Stopped\.\n$/);
  assert.equal(existsSync(join(alice, '.patch/peer.json')), false);
  // With alice offline, bob's pull reports her as offline rather than failing obscurely.
  await ok('Alice', alice, 'collaborators', 'add', '--role', 'writer', (await ok('Bob', bob, 'id')).out.split('\n')[0]!, 'bob');
  const offline = await run('Bob', bob, 'pull');
  assert.match(offline.out, /^Alice: offline: Cannot reach Alice/m);
});

test('start stops on SIGTERM too; invite without a running peer explains what to do', DEADLINE, async () => {
  const dir = tmp('pw-solo-');
  await ok('Solo', dir, 'init', 'solo');
  const noPeer = await run('Solo', dir, 'invite');
  assert.equal(noPeer.code, 1);
  assert.match(noPeer.err, /no peer is running for this repository[\s\S]*hint: Start one first/);
  const peer = await start('Solo', dir);
  const stopped = await peer.stop('SIGTERM');
  assert.equal(stopped.code, 0);
  assert.equal(existsSync(join(dir, '.patch/peer.json')), false);
});
