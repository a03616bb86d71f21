// Patchwork's sync side of the benchmark, over libp2p on 127.0.0.1 with each peer in its own process:
//   serve  — the owner: a PeerService on a repository, one invite ticket per clone to come; runs until
//            its stdin closes (bench.ts holds it open while it measures);
//   clone  — a collaborator cloning from a ticket (objects, refs and checkout; objects and refs only
//            with checkout=false), timed in-process;
//   pull   — a cold pull as the CLI does it: new dial-only node, dial, fetch, integrate.
import '../src/p2p/polyfill.js';
import { Repository } from '../src/engine';
import { PeerService, clone, createInvite, createPeerNode, ensureIdentity, pullFrom } from '../src/p2p/index.js';
import { SERVE_PREFIX, runChild, str, strings } from './child';

runChild({
  async serve(args) {
    const owner = await Repository.open(str(args, 'dir'));
    const service = await PeerService.start(owner, { listen: ['/ip4/127.0.0.1/tcp/0'], claimPeerFile: false });
    const addresses = service.addresses();
    const tickets: string[] = [];
    for (let i = 0; i < Number(args.invites ?? 1); i++) {
      tickets.push((await createInvite(owner, { role: 'reader', addresses, peerId: service.peerId, expiresInMs: 3600_000 })).ticket);
    }
    process.stdout.write(`${SERVE_PREFIX}${JSON.stringify({ peerId: service.peerId, addresses, tickets })}\n`);
    process.stdin.resume();
    await new Promise<void>((r) => process.stdin.once('end', () => r()));
    await service.stop();
    return { ms: [] };
  },

  async clone(args) {
    const t0 = performance.now();
    const r = await clone(str(args, 'ticket'), { cwd: str(args, 'cwd'), dir: str(args, 'dir'), name: 'bench', checkout: args.checkout !== false });
    return { ms: [performance.now() - t0], info: { objects: r.objects, bytes: r.bytes, commits: r.commits } };
  },

  async pull(args) {
    const repo = await Repository.open(str(args, 'dir'));
    const id = await ensureIdentity(repo);
    const target = { peerId: str(args, 'peerId'), name: 'owner', addresses: strings(args, 'addresses') };
    const t0 = performance.now();
    const node = await createPeerNode({ privateKey: id.privateKey, listen: [], isAllowed: () => false });
    const r = await pullFrom(node, repo, target);
    const ms = performance.now() - t0;
    await node.stop();
    return { ms: [ms], info: { objects: r.objects, commits: r.commits } };
  },
});
