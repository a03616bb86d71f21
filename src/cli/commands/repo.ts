import { Repository, fsck, gc, getConfigValue, setConfigValue } from '../../engine';
import { CliCommand, UsageError, red, str } from '../cli';

export const repoCommands: CliCommand[] = [
  {
    name: 'init',
    summary: 'Create an empty Patchwork repository in the current folder.',
    usage: 'init [name] [--author-name <name>] [--author-email <email>] [--branch <name>]',
    help: `Creates .patch/ here. Refuses when this folder or a parent already is a repository.

  name                    the repository's name (default: the folder's name)
  --author-name <name>    author name recorded in commits (default: your user name)
  --author-email <email>  author email recorded in commits
  -b, --branch <name>     name of the first branch (default: main)`,
    options: { 'author-name': { type: 'string' }, 'author-email': { type: 'string' }, branch: { type: 'string', short: 'b' } },
    async run(ctx, v, args) {
      if (args.length > 1) throw new UsageError('init takes at most one name.');
      const repo = await Repository.init(ctx.cwd, {
        name: args[0],
        user: { name: str(v['author-name']), email: str(v['author-email']) },
        defaultBranch: str(v.branch),
      });
      const c = await repo.config();
      ctx.out(`Initialized empty Patchwork repository "${c.repository.name}" in ${repo.patchDir}\n`);
      // The peer identity (its own 0600 file); loaded lazily so other commands do not pay for libp2p.
      const { ensureIdentity } = await import('../../p2p/index.js');
      ctx.out(`Peer id: ${(await ensureIdentity(repo)).peerId}\n`);
    },
  },
  {
    name: 'config',
    summary: 'Read or set a repository setting.',
    usage: 'config [<section.key> [<value>]]',
    help: `With no argument, prints the whole configuration (never secrets: the peer key has its own file).

Examples:
  patchwork config user.name "Ada Lovelace"
  patchwork config user.email ada@example.org
  patchwork config repository.name`,
    async run(ctx, _v, args) {
      const repo = await ctx.repo();
      if (args.length === 0) {
        const { readFileSync } = await import('node:fs');
        ctx.out(readFileSync(repo.configPath, 'utf8'));
      } else if (args.length === 1) {
        const value = getConfigValue(await repo.config(), args[0]);
        if (value === undefined) return 1;
        ctx.out(`${typeof value === 'object' ? JSON.stringify(value) : String(value)}\n`);
      } else if (args.length === 2) {
        await repo.updateConfig((c) => setConfigValue(c, args[0], args[1]));
      } else {
        throw new UsageError('config takes a key and at most one value.');
      }
    },
  },
  {
    name: 'fsck',
    summary: 'Verify every object and that everything reachable from a ref is present.',
    usage: 'fsck',
    help: 'Re-hashes and strictly parses every object, walks history from HEAD, every branch, tag and peer ref, and names each corrupt or missing object. Exits 1 when anything is wrong.',
    async run(ctx) {
      const repo = await ctx.repo();
      const r = await fsck(repo);
      for (const p of r.problems) ctx.out(`${red(ctx.color, p.problem)} ${p.type} ${p.id}: ${p.detail}\n`);
      ctx.out(`${r.checked} objects checked, ${r.reachable} reachable, ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}.\n`);
      return r.problems.length ? 1 : 0;
    },
  },
  {
    name: 'gc',
    summary: 'Pack the loose objects (and older packs) into one pack file.',
    usage: 'gc',
    help: `Writes every object of the repository into one pack under .patch/objects/packs/ and removes the
loose files and packs it replaces. Each object is verified on the way; a damaged one stops gc before
anything is changed (run \`patchwork fsck\` to see it). Nothing is deleted from history: unreachable
objects are packed too. Commands keep working while gc runs in another process.`,
    async run(ctx, _v, args) {
      if (args.length) throw new UsageError('gc takes no arguments.');
      const repo = await ctx.repo();
      const r = await gc(repo);
      if (r.packed === 0) ctx.out('Nothing to pack: no loose objects, and at most one pack.\n');
      else {
        const mib = (r.packBytes / 1024 / 1024).toFixed(1);
        ctx.out(`Packed ${r.packed} object${r.packed === 1 ? '' : 's'} into one pack (${mib} MiB); removed ${r.looseRemoved} loose object${r.looseRemoved === 1 ? '' : 's'} and ${r.packsRemoved} older pack${r.packsRemoved === 1 ? '' : 's'}.\n`);
      }
    },
  },
];
