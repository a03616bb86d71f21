import type { Repository } from '../../engine';
import type * as P2P from '../../p2p/index.js';
import { CliCommand, CliContext, UsageError, bold, dim, green, red, str, yellow } from '../cli';
import { deliveredReasonText } from '../../p2p/wording.js';

/**
 * Peer-to-peer commands: id, collaborators, invite, clone, fetch, pull, push, start, peers.
 * Thin: everything is in src/p2p. libp2p is loaded only when one of these runs.
 */

const load = (): Promise<typeof P2P> => import('../../p2p/index.js');

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
}

function role(v: unknown, fallback: P2P.Role): P2P.Role {
  const s = str(v) ?? fallback;
  if (s !== 'reader' && s !== 'writer') throw new UsageError('--role takes "reader" or "writer".');
  return s;
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

const short = (id: string | undefined) => (id ? id.slice(0, 7) : '(none)');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Progress on stderr: a live line on a terminal, or one line per phase with --progress. */
function progressReporter(ctx: CliContext, v: Record<string, unknown>, names: Map<string, string> = new Map()): ((p: P2P.SyncProgress) => void) | undefined {
  const live = !!process.stderr.isTTY && !v.quiet;
  if (!live && !v.progress) return undefined;
  let last = 0;
  const phases = new Map<string, string>();
  return (p) => {
    const who = names.get(p.peer) ?? `…${p.peer.slice(-8)}`;
    const text = `${who}: ${p.phase}${p.objects || p.bytes ? ` ${plural(p.objects, 'object')}, ${humanBytes(p.bytes)}` : ''}`;
    if (live) {
      const now = Date.now();
      if (p.phase === 'done' || now - last > 100) {
        last = now;
        ctx.err(`\r\x1b[2K${text}${p.phase === 'done' ? '\n' : ''}`);
      }
    } else if (phases.get(p.peer) !== p.phase) {
      phases.set(p.peer, p.phase);
      ctx.err(`${text}\n`);
    }
  };
}

/** Ctrl-C cancels a running transfer cleanly (the repository stays unchanged). */
function cancelOnSigint(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const onSig = () => ac.abort(new Error('cancelled by Ctrl-C'));
  process.once('SIGINT', onSig);
  return { signal: ac.signal, dispose: () => process.removeListener('SIGINT', onSig) };
}

function debugLogger(p2p: typeof P2P): P2P.P2PLogger {
  return process.env.PATCHWORK_DEBUG
    ? { debug: (m) => process.stderr.write(`debug ${m}\n`), info: (m) => process.stderr.write(`${m}\n`), warn: (m) => process.stderr.write(`warning: ${m}\n`), error: (m) => process.stderr.write(`error: ${m}\n`) }
    : p2p.silentLogger;
}

/** Discovery flags of start/fetch/pull/push/peers/clone, on top of the `[p2p]` settings. */
function discoveryFlags(v: Record<string, unknown>): Partial<P2P.DiscoverySettings> {
  const o: Partial<P2P.DiscoverySettings> = {};
  if (v.mdns === true) o.mdns = true;
  if (v.dht === true) o.dht = true;
  if (v['relay-server'] === true) o.relayServer = true;
  if (list(v.bootstrap).length) o.bootstrap = list(v.bootstrap);
  if (list(v.relay).length) o.relays = list(v.relay);
  return o;
}

/**
 * A dial-only node with the repository's identity for one command, with the discovery the
 * repository's settings (and flags) ask for: a DHT client, mDNS queries, relay routes.
 */
async function withNode<T>(repo: Repository, v: Record<string, unknown>, fn: (node: P2P.PeerNode, p2p: typeof P2P) => Promise<T>, extraAddresses: string[] = []): Promise<T> {
  const p2p = await load();
  const id = await p2p.ensureIdentity(repo);
  const settings = p2p.discoverySettings(await repo.config(), discoveryFlags(v));
  const inUse = [...extraAddresses, ...(await p2p.listCollaborators(repo)).flatMap((c) => c.addresses)];
  const discovery = p2p.discoveryOptions(settings, 'dial', inUse);
  const node = await p2p.createPeerNode({ privateKey: id.privateKey, listen: [], isAllowed: () => false, logger: debugLogger(p2p), discovery });
  try {
    return await fn(node, p2p);
  } finally {
    await node.stop().catch(() => undefined);
  }
}

/** Print one peer's failure as a sentence (and hint); returns true when it was only "offline". */
function reportFailure(ctx: CliContext, p2p: typeof P2P, o: { name: string; error: unknown; offline: boolean }): void {
  const e = p2p.describeSyncError(o.error, o.name);
  ctx.out(`${o.name}: ${o.offline ? yellow(ctx.color, 'offline') : red(ctx.color, 'error')}: ${e.message}\n`);
  if (e.hint && !o.offline) ctx.out(`  ${dim(ctx.color, `hint: ${e.hint}`)}\n`);
}

function integrationLine(ctx: CliContext, name: string, r: P2P.PullResult): { line: string; bad: boolean } {
  const i = r.integration;
  const got = r.commits ? `${plural(r.commits, 'new commit')} (${plural(r.objects, 'object')}, ${humanBytes(r.bytes)})` : 'no new commits';
  const b = i.branch ?? '';
  switch (i.kind) {
    case 'fast-forward':
      return { line: `${got}; ${b} fast-forwarded ${short(i.from)}..${short(i.to)}`, bad: false };
    case 'created':
      return { line: `${got}; ${b} now at ${short(i.to)}`, bad: false };
    case 'merged':
      return { line: `${got}; merged ${name}/${b} into ${b} (${short(i.merge)})`, bad: false };
    case 'up-to-date':
      return { line: `${got}; ${b} is up to date`, bad: false };
    case 'ahead':
      return { line: `${got}; ${b} already contains ${name}/${b}`, bad: false };
    case 'no-branch':
      return { line: `${got}; ${name} has no branch ${b} (fetched into refs/peers/)`, bad: false };
    case 'detached':
      return { line: `${got}; HEAD is detached, so nothing was merged`, bad: false };
    case 'conflicts': {
      const lines = (i.conflicts ?? []).map((c) => `  CONFLICT (${c.kind}): ${c.path}`).join('\n');
      return {
        line: `${got}; ${red(ctx.color, `merging ${name}/${b} stopped with conflicts`)}\n${lines}\n  Fix the conflicts, \`patchwork add\` each file, then \`patchwork commit\` (or \`patchwork merge --abort\`).`,
        bad: true,
      };
    }
    case 'blocked':
      return { line: `${got}; ${red(ctx.color, `not merged: ${i.error?.message ?? 'blocked'}`)}${i.error?.hint ? `\n  ${dim(ctx.color, `hint: ${i.error.hint}`)}` : ''}`, bad: true };
  }
}

function pushLine(ctx: CliContext, r: P2P.PushResult): string {
  const sent = r.objects ? ` (${plural(r.objects, 'object')}, ${humanBytes(r.bytes)})` : '';
  const b = r.branch ?? 'your branch';
  switch (r.outcome) {
    case 'updated':
      return `${green(ctx.color, `${b} updated`)}${sent}; ${r.name}'s work tree was updated too`;
    case 'created':
      return `${green(ctx.color, `${b} created`)}${sent}`;
    case 'up-to-date':
      return `up to date${sent}`;
    case 'ahead':
      return `delivered${sent}; ${r.name}'s ${b} already has newer commits: pull first`;
    case 'delivered': {
      const why = deliveredReasonText(r.reason, b, r.name);
      return `${yellow(ctx.color, `delivered; waiting for ${r.name} to merge`)}${sent} (${why})`;
    }
  }
}

async function syncCommand(ctx: CliContext, v: Record<string, unknown>, args: string[], kind: 'fetch' | 'pull' | 'push'): Promise<number> {
  const repo = await ctx.repo();
  return withNode(repo, v, async (node, p2p) => {
    const targets = await p2p.targetsFor(repo, args);
    if (!targets.length) {
      ctx.err('No collaborators yet: nothing to do.\nhint: clone with an invite, or `patchwork collaborators add <peer id> <name> --address <multiaddr>`.\n');
      return 1;
    }
    const cancel = cancelOnSigint();
    const opts = { signal: cancel.signal, onProgress: progressReporter(ctx, v, new Map(targets.map((t) => [t.peerId, t.name]))) };
    try {
      let failed = 0;
      let bad = false;
      const outcomes = kind === 'pull' ? await p2p.pullAll(node, repo, args, opts) : kind === 'push' ? await p2p.pushAll(node, repo, args, opts) : await p2p.fetchAll(node, repo, args, opts);
      for (const o of outcomes) {
        if (!o.ok) {
          failed++;
          reportFailure(ctx, p2p, o);
          continue;
        }
        if (kind === 'push') ctx.out(`${o.name}: ${pushLine(ctx, o.result as P2P.PushResult)}\n`);
        else if (kind === 'pull') {
          const l = integrationLine(ctx, o.name, o.result as P2P.PullResult);
          bad ||= l.bad;
          ctx.out(`${o.name}: ${l.line}\n`);
        } else {
          const f = o.result as P2P.FetchResult;
          const moved = f.changed.map((c) => `${c.ref} ${short(c.from)}..${short(c.to)}`).join(', ');
          ctx.out(`${o.name}: ${f.commits ? plural(f.commits, 'new commit') : 'no new commits'}${moved ? `; ${moved}` : ''}${f.newTags.length ? `; new tags ${f.newTags.join(', ')}` : ''}\n`);
        }
      }
      // A named peer that fails is an error; by default, peers that do not answer are only reported.
      const allFailed = failed === outcomes.length;
      const namedFailed = args.length > 0 && failed > 0;
      const onlyOffline = outcomes.every((o) => o.ok || o.offline);
      if (failed && !onlyOffline && !namedFailed && !allFailed) return 1;
      return bad || allFailed || namedFailed ? 1 : 0;
    } finally {
      cancel.dispose();
    }
  }, args.filter((a) => a.startsWith('/')));
}

const syncOptions = { progress: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' }, mdns: { type: 'boolean' } } as const;
const syncHelp = `  --progress   print each phase on stderr (a live progress line is shown on a terminal anyway)
  -q, --quiet  no progress line
  --mdns       also look for peers on the local network (as the p2p.mdns setting does)
A peer that does not answer at its known addresses is looked up with whatever discovery the
repository's settings turn on (p2p.mdns, p2p.bootstrap, p2p.relays; see docs/p2p.md).`;

const commands: CliCommand[] = [
  {
    name: 'id',
    summary: "Print this repository's peer id (its public address) and where its peer listens.",
    usage: 'id',
    async run(ctx) {
      const repo = await ctx.repo();
      const p2p = await load();
      const id = await p2p.ensureIdentity(repo);
      ctx.out(`${id.peerId}\n`);
      const running = await p2p.runningPeer(repo);
      for (const a of running?.addresses ?? []) ctx.out(`${a}\n`);
      if (!running) ctx.err(dim(ctx.color, 'No peer is running for this repository (start one with `patchwork start`).\n'));
    },
  },
  {
    name: 'collaborators',
    aliases: ['collab'],
    summary: 'List, add or remove the peers that may fetch from (readers) or push to (writers) this repository.',
    usage: 'collaborators [list] | add <peer-id|multiaddr> <name> [--role reader|writer] [--address <multiaddr>]... | remove <name|peer-id>',
    help: `Collaborators are kept in .patch/patchwork.toml. Only collaborators may fetch; only writers may push.
Removing one makes a running peer close their connections within seconds.

  --role <role>          reader (default) or writer
  --address <multiaddr>  where the peer can be reached (repeatable); a multiaddr argument counts too`,
    options: { role: { type: 'string' }, address: { type: 'string', multiple: true } },
    async run(ctx, v, args) {
      const repo = await ctx.repo();
      const p2p = await load();
      const [sub = 'list', ...rest] = args;
      if (sub === 'list' || sub === 'ls') {
        if (rest.length) throw new UsageError('list takes no arguments.');
        const all = await p2p.listCollaborators(repo);
        if (!all.length) ctx.err('No collaborators yet. Invite one with `patchwork invite`.\n');
        for (const c of all) {
          ctx.out(`${bold(ctx.color, c.name.padEnd(16))} ${c.role.padEnd(6)} ${c.peerId}  ${dim(ctx.color, c.lastSeen ? `last seen ${c.lastSeen}` : 'never seen')}\n`);
          for (const a of c.addresses) ctx.out(`${' '.repeat(24)}${dim(ctx.color, a)}\n`);
        }
        return;
      }
      if (sub === 'add') {
        if (rest.length !== 2) throw new UsageError('add takes a peer id (or multiaddr) and a name.');
        let [who, name] = rest as [string, string];
        const addresses = list(v.address);
        if (who.startsWith('/')) {
          const { peerIdOfAddress } = await import('../../p2p/collaborators.js');
          const id = peerIdOfAddress(who);
          if (!id) throw new UsageError('the multiaddr must end in /p2p/<peer id>.');
          addresses.unshift(who);
          who = id;
        }
        const r = await p2p.addCollaborator(repo, { peerId: who, name, role: role(v.role, 'reader'), addresses });
        ctx.out(`${r.updated ? 'Updated' : 'Added'} ${r.collaborator.name} (${r.collaborator.peerId}) as a ${r.collaborator.role}.\n`);
        return;
      }
      if (sub === 'remove' || sub === 'rm') {
        if (rest.length !== 1) throw new UsageError('remove takes one name or peer id.');
        const c = await p2p.removeCollaborator(repo, rest[0]!);
        ctx.out(`Removed ${c.name} (${c.peerId}).${(await p2p.runningPeer(repo)) ? ' The running peer closes their connections.' : ''}\n`);
        return;
      }
      throw new UsageError(`unknown subcommand "${sub}": use list, add or remove.`);
    },
  },
  {
    name: 'invite',
    summary: 'Print a one-time ticket that lets one new peer clone this repository and become a collaborator.',
    usage: 'invite [--role reader|writer] [--expires <duration>] [--address <multiaddr>]... | --list | --revoke [<id>]',
    help: `The ticket holds this peer's id and addresses, the repository id and a secret that works once and
expires (default 1 hour). Only a hash of the secret is stored (.patch/invites.json, mode 0600).
The addresses come from the running peer (\`patchwork start\`) or --address.

  --role <role>          reader (default: may clone and pull) or writer (may also push)
  --expires <duration>   e.g. 30m, 1h, 2d (at most 30d)
  --address <multiaddr>  an address to put in the ticket (repeatable)
  --list                 list invites and whether they are used or expired
  --revoke [<id>]        revoke every outstanding invite, or one

The ticket is printed alone on stdout; the new collaborator runs \`patchwork clone <ticket>\`.`,
    options: { role: { type: 'string' }, expires: { type: 'string' }, address: { type: 'string', multiple: true }, list: { type: 'boolean' }, revoke: { type: 'boolean' } },
    async run(ctx, v, args) {
      const repo = await ctx.repo();
      const p2p = await load();
      if (v.list) {
        const now = Date.now();
        for (const r of await p2p.listInvites(repo)) {
          const state = r.usedBy ? `used by ${r.usedBy}` : Date.parse(r.expires) <= now ? 'expired' : `valid until ${r.expires}`;
          ctx.out(`${r.id}  ${r.role.padEnd(6)}  ${state}\n`);
        }
        return;
      }
      if (v.revoke) {
        if (args.length > 1) throw new UsageError('--revoke takes at most one invite id.');
        const n = await p2p.revokeInvites(repo, args[0]);
        ctx.out(`Revoked ${plural(n, 'invite')}.\n`);
        return;
      }
      if (args.length) throw new UsageError('invite takes no arguments.');
      const id = await p2p.ensureIdentity(repo);
      const running = await p2p.runningPeer(repo);
      const addresses = [...list(v.address), ...(running?.addresses ?? [])];
      if (!addresses.length) {
        throw new (await import('../../engine')).PatchworkError(
          'P2P',
          'No address to put in the ticket: no peer is running for this repository.',
          'Start one first (`patchwork start`, in another terminal), or pass --address <multiaddr>.',
        );
      }
      const r = await p2p.createInvite(repo, { role: role(v.role, 'reader'), expiresInMs: p2p.parseDuration(str(v.expires) ?? '1h'), addresses, peerId: id.peerId });
      ctx.out(`${r.ticket}\n`);
      ctx.err(`Invite ${r.record.id} for one ${r.record.role}, valid until ${r.record.expires}. The new collaborator runs:\n  patchwork clone <ticket>\n`);
    },
  },
  {
    name: 'clone',
    summary: 'Copy a repository from a peer: metadata, collaborators, every branch and tag; check out its branch.',
    usage: 'clone <ticket | multiaddr> [dir] [--name <your name>] [--identity <key file>] [-n]',
    help: `With a ticket from \`patchwork invite\`, the owner adds you as a collaborator. With a multiaddr
(…/p2p/<peer id>) you must already be a collaborator: pass the key of that identity with --identity.
A failed clone leaves nothing behind.

  dir                    destination (default: the repository's name)
  --name <name>          the name the owner sees for you (default: your user name)
  --identity <file>      reuse an existing identity key instead of creating a new one
  --address <multiaddr>  another address to try for the owner (repeatable)
  -n, --no-checkout      fetch objects and refs only; write no files (\`patchwork reset --hard\` does it later)
${syncHelp}`,
    options: { name: { type: 'string' }, identity: { type: 'string' }, address: { type: 'string', multiple: true }, 'no-checkout': { type: 'boolean', short: 'n' }, ...syncOptions },
    async run(ctx, v, args) {
      if (args.length < 1 || args.length > 2) throw new UsageError('clone takes a ticket (or multiaddr) and optionally a folder.');
      const p2p = await load();
      const source = p2p.parseCloneSource(args[0]!, list(v.address));
      const cancel = cancelOnSigint();
      try {
        const discovery = p2p.discoveryOptions({ ...p2p.NO_DISCOVERY, mdns: v.mdns === true }, 'dial', source.target.addresses);
        const r = await p2p.clone(args[0]!, {
          node: discovery && { discovery },
          logger: debugLogger(p2p),
          cwd: ctx.cwd,
          dir: args[1],
          name: str(v.name),
          identityFile: str(v.identity),
          addresses: list(v.address),
          checkout: v['no-checkout'] !== true,
          signal: cancel.signal,
          onProgress: progressReporter(ctx, v, new Map([[source.target.peerId, source.target.name]])),
        });
        ctx.out(
          `Cloned "${r.repository.name}" from ${r.ownerName} into ${r.root}: ${plural(r.commits, 'commit')}, ${plural(r.objects, 'object')} (${humanBytes(r.bytes)}) in ${r.ms} ms.\n`,
        );
        const where = !r.head
          ? 'The repository is empty.'
          : v['no-checkout'] === true
            ? `${r.branch} is at ${short(r.head)}; no files were checked out (run \`patchwork reset --hard\` there to get them).`
            : `Checked out ${r.branch} at ${short(r.head)}.`;
        ctx.out(`${where} You are a ${r.role}; your peer id is ${r.peerId}.\n`);
      } catch (e) {
        throw p2p.describeSyncError(e, source.target.name);
      } finally {
        cancel.dispose();
      }
    },
  },
  {
    name: 'fetch',
    summary: "Download collaborators' new commits into refs/peers/<peer>/… without merging.",
    usage: 'fetch [<peer>...]',
    help: `Default: every collaborator; those that do not answer are reported. <peer> is a name, a peer id or a multiaddr.\n${syncHelp}`,
    options: syncOptions,
    run: (ctx, v, args) => syncCommand(ctx, v, args, 'fetch'),
  },
  {
    name: 'pull',
    summary: "Fetch from collaborators and bring their copy of the current branch into it.",
    usage: 'pull [<peer>...]',
    help: `Fast-forwards when possible, otherwise makes a merge commit ("Merge <peer>/<branch>"); conflicts stop
the merge as \`patchwork merge\` does. Fetched commits are always kept under refs/peers/<peer>/.
Default: every collaborator that answers, one report line each.
${syncHelp}`,
    options: syncOptions,
    run: (ctx, v, args) => syncCommand(ctx, v, args, 'pull'),
  },
  {
    name: 'push',
    summary: 'Send your branches and tags to collaborators.',
    usage: 'push [<peer>...]',
    help: `The receiver keeps what arrives under refs/peers/<you>/. When your current branch is its current
branch, its work tree is clean and the update is a fast-forward, its branch and files move too;
otherwise it is "delivered; waiting for <name> to merge". Nothing is ever overwritten.
Default: every collaborator that answers. Only writers may push.
${syncHelp}`,
    options: syncOptions,
    run: (ctx, v, args) => syncCommand(ctx, v, args, 'push'),
  },
  {
    name: 'start',
    summary: 'Run this repository’s peer in the foreground: serve clone, pull and push to collaborators.',
    usage: 'start [--listen <multiaddr>]... [--mdns] [--dht] [--bootstrap <multiaddr>]... [--relay <multiaddr>]... [--relay-server]',
    help: `Prints the peer id and listen addresses, logs every request and refusal on stderr, and stops cleanly
on Ctrl-C. Only one peer runs per repository (.patch/peer.json says where).

  --listen <multiaddr>     where to listen (repeatable; default: the p2p.listen setting, else
                           /ip4/0.0.0.0/tcp/0, a random port on every interface)

Discovery (each also a setting, all off until configured; see docs/p2p.md):
  --mdns                   answer and ask on the local network; learn collaborators' new addresses
                           (p2p.mdns = true)
  --bootstrap <multiaddr>  join the DHT through this peer (repeatable; p2p.bootstrap)
  --dht                    serve the DHT without bootstrap peers: be the bootstrap node (p2p.dht)
  --relay <multiaddr>      hold a slot on this relay and advertise <relay>/p2p-circuit/p2p/<id>
                           (repeatable; p2p.relays)
  --relay-server           relay for this repository's collaborators (p2p.relay_server = true)
None of them admits anyone: only collaborators may connect, as always.`,
    options: {
      listen: { type: 'string', multiple: true },
      mdns: { type: 'boolean' },
      dht: { type: 'boolean' },
      bootstrap: { type: 'string', multiple: true },
      relay: { type: 'string', multiple: true },
      'relay-server': { type: 'boolean' },
    },
    async run(ctx, v, args) {
      if (args.length) throw new UsageError('start takes no arguments.');
      const repo = await ctx.repo();
      const p2p = await load();
      const stamp = () => new Date().toISOString().slice(11, 19);
      const logger: P2P.P2PLogger = {
        debug: process.env.PATCHWORK_DEBUG ? (m) => ctx.err(`${stamp()} debug ${m}\n`) : undefined,
        info: (m) => ctx.err(`${stamp()} ${m}\n`),
        warn: (m) => ctx.err(`${stamp()} ${yellow(ctx.color, m)}\n`),
        error: (m) => ctx.err(`${stamp()} ${red(ctx.color, m)}\n`),
      };
      const listen = list(v.listen);
      const service = await p2p.PeerService.start(repo, { listen: listen.length ? listen : undefined, logger, owner: 'cli', discovery: discoveryFlags(v) });
      // Catch Ctrl-C / SIGTERM before saying "Press Ctrl-C": a signal sent as soon as that line is
      // read must not find the default handler (which kills the process without stopping the peer).
      const stopRequested = new Promise<void>((resolve) => {
        const done = () => {
          process.removeListener('SIGINT', done);
          process.removeListener('SIGTERM', done);
          resolve();
        };
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      const name = (await repo.config()).repository.name;
      const collabs = service.collaborators();
      ctx.out(`Serving "${name}" as peer ${service.peerId}\nListening on:\n${service.addresses().map((a) => `  ${a}\n`).join('') || '  (no direct address)\n'}`);
      const f = service.node.features;
      if (Object.values(f).some(Boolean)) {
        const on = [f.mdns && 'mDNS', f.dht && 'DHT', f.relay && 'relay (circuit addresses appear in the log once a slot is reserved)', f.relayServer && 'relay server'].filter(Boolean);
        ctx.out(`Discovery: ${on.join(', ')}.\n`);
      }
      ctx.out(`${plural(collabs.length, 'collaborator')}${collabs.length ? `: ${collabs.map((c) => `${c.name} (${c.role})`).join(', ')}` : ''}. Press Ctrl-C to stop.\n`);
      await stopRequested;
      ctx.err(`${stamp()} stopping\n`);
      await service.stop();
      ctx.out('Stopped.\n');
    },
  },
  {
    name: 'peers',
    summary: 'Show each collaborator as online or offline, with when it was last seen.',
    usage: 'peers [--mdns]',
    options: { mdns: { type: 'boolean' } },
    async run(ctx, v, args) {
      if (args.length) throw new UsageError('peers takes no arguments.');
      const repo = await ctx.repo();
      return withNode(repo, v, async (node, p2p) => {
        const all = await p2p.listCollaborators(repo);
        if (!all.length) {
          ctx.err('No collaborators yet. Invite one with `patchwork invite`.\n');
          return;
        }
        const states = await Promise.all(all.map((c) => p2p.probePeer(node, repo, c)));
        const width = Math.max(...all.map((c) => c.name.length), 4);
        for (const [i, c] of all.entries()) {
          const s = states[i]!;
          const state = s.online ? green(ctx.color, `online (${s.rttMs} ms)`) : yellow(ctx.color, 'offline');
          const seen = s.online ? 'now' : c.lastSeen ? c.lastSeen.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : 'never';
          ctx.out(`${bold(ctx.color, c.name.padEnd(width))}  ${c.role.padEnd(6)}  …${c.peerId.slice(-8)}  ${state.padEnd(ctx.color ? 28 : 18)}  last seen ${seen}\n`);
        }
      });
    },
  },
];

/** Transport errors that escape a command become one sentence and a hint (src/p2p/describe.ts). */
export const p2pCommands: CliCommand[] = commands.map((c) => ({
  ...c,
  async run(ctx, v, args) {
    try {
      return await c.run(ctx, v, args);
    } catch (e) {
      if (e instanceof Error && e.name === 'P2PError') throw (await load()).describeSyncError(e);
      throw e;
    }
  },
}));
