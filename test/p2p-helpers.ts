// Shared set-up for the p2p sync tests: real repositories in temporary folders, real libp2p nodes on
// 127.0.0.1. Not a test file itself (no .test.ts suffix).
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { Repository } from '../src/engine';
import {
  PeerService,
  addCollaborator,
  createInvite,
  createPeerNode,
  ensureIdentity,
  isP2PError,
  type P2PLogger,
  type PeerNode,
  type PeerServiceEvent,
  type Role,
} from '../src/p2p/index.js';
import { ok, tmp, write } from './helpers';

export const LOOPBACK = ['/ip4/127.0.0.1/tcp/0'];
/** Every test has a deadline so a hang fails instead of blocking CI. */
export const DEADLINE = { timeout: 45_000 };

const stoppers: (() => Promise<void>)[] = [];
after(async () => {
  await Promise.all(stoppers.map((s) => s().catch(() => undefined)));
});

export function collectingLogger(lines: string[] = []): P2PLogger & { lines: string[] } {
  return {
    lines,
    debug: () => undefined,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

export interface TestRepo {
  dir: string;
  repo: Repository;
  peerId: string;
}

/** `init` (which creates the identity) and, if files are given, one commit with them. */
export async function makeRepo(name: string, files?: Record<string, string>, message = `${name}: first commit`): Promise<TestRepo> {
  const dir = tmp(`pw-${name}-`);
  await ok(dir, 'init', name);
  await ok(dir, 'config', 'user.name', name);
  if (files) await commitFiles(dir, files, message);
  const repo = await Repository.open(dir);
  return { dir, repo, peerId: (await ensureIdentity(repo)).peerId };
}

export async function commitFiles(dir: string, files: Record<string, string>, message: string): Promise<void> {
  for (const [p, c] of Object.entries(files)) write(dir, p, c);
  await ok(dir, 'add', '.');
  await ok(dir, 'commit', '-m', message);
}

export interface Served extends TestRepo {
  service: PeerService;
  events: PeerServiceEvent[];
  log: string[];
  addresses: string[];
}

export async function serve(r: TestRepo, opts: { pollMs?: number; watch?: boolean } = {}): Promise<Served> {
  const logger = collectingLogger();
  const service = await PeerService.start(r.repo, { listen: LOOPBACK, logger, pollMs: opts.pollMs ?? 200, watch: opts.watch });
  stoppers.push(() => service.stop());
  const events: PeerServiceEvent[] = [];
  service.onEvent((e) => events.push(e));
  return { ...r, service, events, log: logger.lines, addresses: service.addresses() };
}

/** A dial-only node with the repository's identity, like the CLI's pull/push use. */
export async function clientNode(r: TestRepo): Promise<PeerNode> {
  const id = await ensureIdentity(r.repo);
  const node = await createPeerNode({ privateKey: id.privateKey, listen: [], isAllowed: () => false });
  stoppers.push(() => node.stop());
  return node;
}

/** Make `b` a collaborator of `a` (with b's addresses when it is served). */
export async function befriend(a: TestRepo, b: TestRepo & { addresses?: string[] }, name: string, role: Role = 'writer'): Promise<void> {
  await addCollaborator(a.repo, { peerId: b.peerId, name, role, addresses: b.addresses ?? [] });
}

export async function invite(a: Served, role: Role = 'writer', expiresInMs = 60_000): Promise<string> {
  return (await createInvite(a.repo, { role, expiresInMs, addresses: a.addresses, peerId: a.peerId })).ticket;
}

export async function rejects(p: Promise<unknown>, check: (e: unknown) => boolean, what: string): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    assert.ok(check(e), `${what}: unexpected error ${e instanceof Error ? `${e.name} ${(e as { code?: string }).code ?? ''} ${e.message}` : String(e)}`);
    return e;
  }
  assert.fail(`${what}: expected a rejection`);
}

export const isRefused = (e: unknown) => isP2PError(e, 'REFUSED');

export async function head(r: TestRepo): Promise<string | undefined> {
  return (await Repository.open(r.dir)).headCommit();
}

export async function until(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
