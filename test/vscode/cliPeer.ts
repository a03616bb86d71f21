// A second peer for the VS Code tests, the UI screenshots and `npm start`: the real CLI
// (out/cli.js) running `patchwork start` in a repository of its own, in a child process.
//
//   sharedRepository(base, …)  -> origin repository served by a CLI peer + a clone of it (the
//                                 VS Code side), each a collaborator (writer) of the other
//   startCliPeer(dir)          -> `patchwork start --listen /ip4/127.0.0.1/tcp/0`, until stop()
//   runCli(cwd, …args)         -> one CLI command, synchronously
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Repository, add, commit } from '../../src/engine';
import { projectRoot } from './harness';
import { writeFiles } from './fixture';

export const CLI = join(projectRoot, 'out', 'cli.js');

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export function runCli(cwd: string, ...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

export function mustCli(cwd: string, ...args: string[]): string {
  const r = runCli(cwd, ...args);
  if (r.code !== 0) throw new Error(`patchwork ${args.join(' ')} (in ${cwd}) exited ${r.code}:\n${r.out}${r.err}`);
  return r.out;
}

export interface CliPeer {
  readonly dir: string;
  readonly peerId: string;
  readonly addresses: readonly string[];
  readonly process: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Ctrl-C, and wait for it to exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/** `patchwork start` in `dir` on 127.0.0.1; resolves once it prints its addresses. */
export async function startCliPeer(dir: string, timeoutMs = 20_000): Promise<CliPeer> {
  const child = spawn(process.execPath, [CLI, 'start', '--listen', '/ip4/127.0.0.1/tcp/0'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`patchwork start did not come up within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      if (/Press Ctrl-C to stop/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`patchwork start exited (${code}):\n${out}`));
    });
  });
  const peerId = /as peer (\S+)/.exec(out)?.[1] ?? '';
  const addresses = [...out.matchAll(/^\s+(\/ip4\/\S+)$/gm)].map((m) => m[1]!);
  let exited: Promise<void> | undefined;
  return {
    dir,
    peerId,
    addresses,
    process: child,
    output: () => out,
    stop: () =>
      (exited ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGINT');
      })),
  };
}

/** A commit made with the engine, as `patchwork add` + `commit` would. */
export async function commitFiles(root: string, files: Record<string, string>, message: string, author = { name: 'Ada', email: 'ada@example.org' }): Promise<string> {
  const r = await Repository.open(root, { author });
  writeFiles(root, files);
  await add(r, Object.keys(files));
  return (await commit(r, { message })).id;
}

export interface Shared {
  /** The CLI peer's repository. */
  origin: string;
  /** The clone (the VS Code side). */
  clone: string;
  peer: CliPeer;
}

/**
 * `origin` (owner `ownerName`, files committed) served by a CLI peer, and `clone` made from it with
 * an invite (`patchwork clone`), so each is a writer collaborator of the other.
 */
export async function sharedRepository(opts: { origin: string; clone: string; name: string; ownerName: string; cloneName: string; files: Record<string, string> }): Promise<Shared> {
  const repo = await Repository.init(opts.origin, { name: opts.name, user: { name: opts.ownerName, email: `${opts.ownerName.toLowerCase()}@example.org` } });
  writeFiles(opts.origin, opts.files);
  await add(repo, ['']);
  await commit(repo, { message: 'First commit' });
  const peer = await startCliPeer(opts.origin);
  try {
    const ticket = mustCli(opts.origin, 'invite', '--role', 'writer').trim();
    mkdirSync(join(opts.clone, '..'), { recursive: true });
    mustCli(join(opts.clone, '..'), 'clone', ticket, opts.clone, '--name', opts.cloneName);
    mustCli(opts.clone, 'config', 'user.name', opts.cloneName);
    mustCli(opts.clone, 'config', 'user.email', `${opts.cloneName.toLowerCase()}@example.org`);
  } catch (e) {
    await peer.stop();
    throw e;
  }
  return { origin: opts.origin, clone: opts.clone, peer };
}
