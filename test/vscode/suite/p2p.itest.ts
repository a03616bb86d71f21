// Two peers syncing through the commands (run separately, see test/vscode-p2p.test.ts): the
// workspace folder `shared` is a clone of a repository that a CLI peer (`patchwork start`, spawned
// by the node-side test) serves. The suite drives VS Code's commands and checks both repositories
// on disk, the sync item's text, the Collaborators view, and the notifications.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Repository, add, commit, walkLog } from '../../../src/engine';
import type { PeerTestView } from '../../../src/extension/api';
import type { Prompt } from '../../../src/extension/ui';
import { api, answer, folder, repo, testApi, waitFor } from './util';

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this suite through test/vscode-p2p.test.ts`);
  return v;
};
const cliRepo = () => env('PATCHWORK_TEST_CLI_REPO');
const config = () => vscode.workspace.getConfiguration('patchwork');
const set = (key: string, value: unknown) => config().update(key, value, vscode.ConfigurationTarget.Global);

/**
 * Run the CLI (out/cli.js) in `cwd` with the extension host's Node. Asynchronously: the extension's
 * own peer runs on this event loop and must answer while the CLI talks to it.
 */
function cli(cwd: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [env('PATCHWORK_TEST_CLI'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000 }, (error, out, err) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, out, err }),
    );
  });
}

/** A commit in a repository on disk, made with the engine (as `patchwork commit` would). */
async function commitIn(root: string, files: Record<string, string>, message: string): Promise<string> {
  const r = await Repository.open(root, { author: { name: 'Test', email: 'test@example.org' } });
  for (const [p, c] of Object.entries(files)) writeFileSync(join(root, p), c);
  await add(r, Object.keys(files));
  return (await commit(r, { message })).id;
}

async function peer(): Promise<PeerTestView> {
  const v = (await testApi()).peer(folder('shared'));
  if (!v) throw new Error('no peer view for shared');
  return v;
}

/** The status bar re-renders a moment after the state changes. */
async function waitForItem(command: string, title: string | undefined): Promise<void> {
  await waitFor(`status bar item ${command} = ${title}`, async () => (await peer()).statusBar.find((c) => c.command === command)?.title === title);
}

async function waitForCounts(incoming: number, outgoing: number, ms = 10_000): Promise<void> {
  await waitFor(`counts ${incoming}↓ ${outgoing}↑`, async () => {
    const c = (await peer()).counts;
    return !!c && c.incoming === incoming && c.outgoing === outgoing;
  }, ms);
}

const headOf = async (root: string) => (await Repository.open(root)).headCommit();

suite('Peer-to-peer: two peers syncing through the commands', () => {
  let prompts: Prompt[] = [];
  const spawned: ChildProcess[] = [];
  const servers: Server[] = [];

  suiteSetup(async function () {
    this.timeout(30_000);
    await api();
    await repo('shared');
    await waitFor('the peer to start', async () => (await peer()).state.kind === 'online', 20_000);
  });

  setup(async () => {
    prompts = await answer((p) => {
      if (p.kind === 'message' && p.modal) return p.actions[0];
      return undefined;
    });
  });

  teardown(async () => {
    (await testApi()).setResponder(undefined);
    for (const c of spawned.splice(0)) c.kill('SIGINT');
    for (const s of servers.splice(0)) s.close();
  });

  test('the peer starts after activation, listening on 127.0.0.1 only', async () => {
    const p = await peer();
    assert.equal(p.state.kind, 'online');
    if (p.state.kind !== 'online') return;
    assert.ok(p.state.addresses.length > 0);
    for (const a of p.state.addresses) assert.match(a, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW/);
    const file = JSON.parse(readFileSync(join(folder('shared').fsPath, '.patch', 'peer.json'), 'utf8')) as { owner: string; pid: number };
    assert.deepEqual([file.owner, file.pid], ['vscode', process.pid]);
    console.log(`[measure] peer module loaded in ${(await testApi()).peerModuleLoadMs()?.toFixed(0)} ms; peer started in ${p.startMs?.toFixed(0)} ms`);
  });

  test('the Collaborators view lists the CLI peer (the owner, a writer) as online', async () => {
    await vscode.commands.executeCommand('patchwork.refreshCollaborators', folder('shared'));
    const rows = await (await testApi()).collaboratorRows();
    assert.equal(rows.length, 1, rows.join('\n'));
    assert.match(rows[0]!, /^Ada — …\w{8} · writer · online$/);
    assert.equal((await peer()).collaborators[0]?.online, true);
  });

  test('the CLI peer commits → Fetch shows 1↓ in the status bar → Sync brings the file, counts go to 0', async () => {
    await commitIn(cliRepo(), { 'from-cli.txt': 'written by the CLI peer\n' }, 'CLI: add from-cli.txt');
    await vscode.commands.executeCommand('patchwork.fetch', folder('shared'));
    await waitForCounts(1, 0);
    await waitForItem('patchwork.sync', '$(sync) 1↓ 0↑');
    const rows = await (await testApi()).collaboratorRows();
    assert.match(rows[0]!, /· 1 new commit$/);
    assert.match(rows[1] ?? '', /^ {2}CLI: add from-cli\.txt — \w{8} · Test · /, rows.join('\n'));
    const result = (await vscode.commands.executeCommand('patchwork.sync', folder('shared'))) as { pull: { text: string }; push?: { text: string } };
    assert.ok(result?.pull, JSON.stringify(prompts));
    assert.equal(readFileSync(join(folder('shared').fsPath, 'from-cli.txt'), 'utf8'), 'written by the CLI peer\n');
    // The notification's progress: phases per peer, objects and bytes.
    const progress = (await peer()).progress;
    assert.ok(progress.some((l) => /^Ada: done \d+ objects?, [\d.]+ (B|KiB)$/.test(l)), progress.join('\n'));
    await waitForCounts(0, 0);
    await waitForItem('patchwork.sync', '$(sync)');
    assert.deepEqual(prompts.filter((p) => p.kind === 'message'), [], 'a plain sync raises no notification');
  });

  test('VS Code commits → 0↓ 1↑ → Push → the CLI repository has the commit and the file', async () => {
    const id = await commitIn(folder('shared').fsPath, { 'from-vscode.txt': 'written in VS Code\n' }, 'VS Code: add from-vscode.txt');
    await (await repo('shared')).refresh();
    await waitForCounts(0, 1);
    await waitForItem('patchwork.sync', '$(sync) 0↓ 1↑');
    await vscode.commands.executeCommand('patchwork.push', folder('shared'));
    assert.equal(await headOf(cliRepo()), id);
    assert.equal(readFileSync(join(cliRepo(), 'from-vscode.txt'), 'utf8'), 'written in VS Code\n', 'the CLI peer\'s clean work tree was fast-forwarded');
    await waitForCounts(0, 0);
  });

  test('Push to / Pull from one collaborator from its row in the Collaborators view (the context actions)', async () => {
    const node = (await testApi()).collaboratorNode(folder('shared'), 'Ada');
    assert.ok(node);
    const id = await commitIn(folder('shared').fsPath, { 'row.txt': 'pushed from the row\n' }, 'VS Code: row.txt');
    const pushed = (await vscode.commands.executeCommand('patchwork.pushTo', node)) as { severity?: string; text: string } | undefined;
    assert.equal(pushed?.text, 'Ada: main updated');
    assert.equal(await headOf(cliRepo()), id);
    await commitIn(cliRepo(), { 'row2.txt': 'pulled from the row\n' }, 'CLI: row2.txt');
    await vscode.commands.executeCommand('patchwork.pullFrom', node);
    assert.equal(readFileSync(join(folder('shared').fsPath, 'row2.txt'), 'utf8'), 'pulled from the row\n');
    await waitForCounts(0, 0);
  });

  test('auto-fetch (patchwork.autoFetch) updates the counts without a command', async () => {
    await commitIn(cliRepo(), { 'auto.txt': 'fetched in the background\n' }, 'CLI: auto.txt');
    await set('autoFetch', 1);
    try {
      await waitForCounts(1, 0, 15_000);
      await waitForItem('patchwork.sync', '$(sync) 1↓ 0↑');
    } finally {
      await set('autoFetch', undefined);
    }
    await vscode.commands.executeCommand('patchwork.pull', folder('shared'));
    await waitForCounts(0, 0);
  });

  test('a push from the CLI that cannot be fast-forwarded raises "Merge" / "Show"; Merge merges it', async () => {
    const ours = await commitIn(folder('shared').fsPath, { 'ours.txt': 'ours\n' }, 'VS Code: ours.txt');
    const theirs = await commitIn(cliRepo(), { 'theirs.txt': 'theirs\n' }, 'CLI: theirs.txt');
    prompts = await answer((p) => (p.kind === 'message' && /could not be fast-forwarded/.test(p.text) ? 'Merge' : undefined));
    const pushed = await cli(cliRepo(), 'push');
    assert.equal(pushed.code, 0, pushed.out + pushed.err);
    assert.match(pushed.out, /delivered; waiting for .* to merge/);
    await waitFor('the merge', async () => {
      const head = await headOf(folder('shared').fsPath);
      if (!head || head === ours) return false;
      const c = await (await Repository.open(folder('shared').fsPath)).readCommit(head);
      return c.parents.length === 2;
    }, 15_000);
    const note = prompts.find((p) => p.kind === 'message' && /could not be fast-forwarded/.test(p.text));
    assert.ok(note && note.kind === 'message');
    assert.match(note.text, /^Ada pushed 1 commit to main, which could not be fast-forwarded: your main has commits of its own\./);
    assert.deepEqual(note.actions, ['Merge', 'Show']);
    const r = await Repository.open(folder('shared').fsPath);
    const merged = await r.readCommit((await r.headCommit())!);
    assert.deepEqual(merged.parents, [ours, theirs]);
    assert.match(merged.message, /^Merge Ada\/main/);
    assert.equal(readFileSync(join(folder('shared').fsPath, 'theirs.txt'), 'utf8'), 'theirs\n');
    await vscode.commands.executeCommand('patchwork.push', folder('shared'));
    assert.equal(await headOf(cliRepo()), await r.headCommit());
  });

  test('"Show" on that notification reveals the collaborator in the Collaborators view, with their commits', async () => {
    await commitIn(folder('shared').fsPath, { 'ours2.txt': 'ours again\n' }, 'VS Code: ours2.txt');
    await commitIn(cliRepo(), { 'theirs2.txt': 'theirs again\n' }, 'CLI: theirs2.txt');
    let shown = false;
    prompts = await answer((p) => {
      if (p.kind === 'message' && /could not be fast-forwarded/.test(p.text)) {
        shown = true;
        return 'Show';
      }
      return undefined;
    });
    const pushed = await cli(cliRepo(), 'push');
    assert.equal(pushed.code, 0, pushed.out + pushed.err);
    await waitFor('the notification', () => shown, 10_000);
    await waitFor('Ada selected in the view', async () => (await testApi()).collaboratorSelection().includes('Ada'), 10_000);
    await waitFor('their commit listed under Ada', async () => (await (await testApi()).collaboratorRows()).some((r) => /^\s+CLI: theirs2\.txt — /.test(r)), 10_000);
    await vscode.commands.executeCommand('patchwork.sync', folder('shared'));
    await waitForCounts(0, 0);
    assert.equal(readFileSync(join(cliRepo(), 'ours2.txt'), 'utf8'), 'ours again\n');
  });

  test('Invite Collaborator: a role pick, then a one-time ticket on the clipboard', async () => {
    prompts = await answer((p) => (p.kind === 'pick' ? p.items.find((i) => i.label === 'Reader') : undefined));
    const invite = (await vscode.commands.executeCommand('patchwork.invite', folder('shared'))) as { ticket: string; role: string } | undefined;
    assert.ok(invite, JSON.stringify(prompts));
    assert.equal(invite.role, 'reader');
    assert.equal(await vscode.env.clipboard.readText(), invite.ticket);
    const decoded = JSON.parse(Buffer.from(invite.ticket.slice('pwt1.'.length), 'base64url').toString()) as { p: string; a: string[] };
    const state = (await peer()).state;
    assert.equal(state.kind === 'online' && state.peerId, decoded.p);
    assert.ok(decoded.a.every((a) => a.startsWith('/ip4/127.0.0.1/')));
    const info = prompts.find((p) => p.kind === 'message');
    assert.ok(info && info.kind === 'message' && /copied to the clipboard/.test(info.text) && /works on this machine only/.test(info.text), JSON.stringify(info));
  });

  test('Clone from Peer: ticket, folder, then "Add to Workspace" opens the clone as a repository', async function () {
    this.timeout(30_000);
    const a = await api();
    const dest = folder('clones').fsPath;
    prompts = await answer((p) => {
      if (p.kind === 'input') return env('PATCHWORK_TEST_TICKET');
      if (p.kind === 'folder') return dest;
      if (p.kind === 'message' && /Would you like to open/.test(p.text)) return 'Add to Workspace';
      return undefined;
    });
    const result = (await vscode.commands.executeCommand('patchwork.clone')) as { root: string; role: string } | undefined;
    assert.ok(result, JSON.stringify(prompts));
    assert.equal(result.root, join(dest, 'shared'));
    assert.equal(result.role, 'reader');
    assert.equal(readFileSync(join(result.root, 'from-cli.txt'), 'utf8'), 'written by the CLI peer\n');
    await waitFor('the clone to open as a repository', () => a.repositories.some((r) => r.rootUri.fsPath === result.root), 15_000);
    assert.ok(vscode.workspace.workspaceFolders?.some((f) => f.uri.fsPath === result.root), 'added to the workspace');
    const ask = prompts.find((p) => p.kind === 'message' && /Would you like to open/.test(p.text));
    assert.ok(ask && ask.kind === 'message');
    assert.deepEqual(ask.actions, ['Open', 'Open in New Window', 'Add to Workspace']);
  });

  test('a taken port: the peer does not start, the status bar says why, and pull still works', async function () {
    this.timeout(30_000);
    const blocker = createServer();
    servers.push(blocker);
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    await set('peer.port', port);
    try {
      await waitFor('the peer to fail', async () => (await peer()).state.kind === 'failed', 10_000);
      const p = await peer();
      assert.equal(p.state.kind === 'failed' && p.state.reason, `The peer cannot listen on /ip4/127.0.0.1/tcp/${port}: the port is already in use. Choose another port (setting patchwork.peer.port), or 0 for any free port.`);
      await waitForItem('patchwork.startPeer', '$(warning) Peer: port in use');
      const item = (await peer()).statusBar.find((c) => c.command === 'patchwork.startPeer');
      assert.match(item?.tooltip ?? '', /Pull and push still work/);
      await commitIn(cliRepo(), { 'while-failed.txt': 'pulled without our peer\n' }, 'CLI: while-failed.txt');
      await vscode.commands.executeCommand('patchwork.pull', folder('shared'));
      assert.equal(readFileSync(join(folder('shared').fsPath, 'while-failed.txt'), 'utf8'), 'pulled without our peer\n');
    } finally {
      await set('peer.port', undefined);
    }
    await waitFor('the peer to be online again', async () => (await peer()).state.kind === 'online', 10_000);
    await waitForItem('patchwork.startPeer', undefined);
  });

  test('a `patchwork start` already serving the repository: VS Code shows it, starts no second peer, and syncs', async function () {
    this.timeout(40_000);
    const shared = folder('shared').fsPath;
    await vscode.commands.executeCommand('patchwork.stopPeer', folder('shared'));
    assert.equal((await peer()).state.kind, 'stopped');
    assert.ok(!existsSync(join(shared, '.patch', 'peer.json')));
    const child = spawn(process.execPath, [env('PATCHWORK_TEST_CLI'), 'start', '--listen', '/ip4/127.0.0.1/tcp/0'], { cwd: shared, stdio: ['ignore', 'pipe', 'pipe'] });
    spawned.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('`patchwork start` to listen', () => /Listening on/.test(out) && /Press Ctrl-C/.test(out), 15_000);
    await vscode.commands.executeCommand('patchwork.startPeer', folder('shared'));
    const p = await peer();
    assert.equal(p.state.kind, 'external');
    assert.equal(p.state.kind === 'external' && p.state.pid, child.pid);
    await waitForItem('patchwork.showLog', '$(broadcast) Peer: CLI');
    await commitIn(cliRepo(), { 'via-client.txt': 'pulled through a dial-only node\n' }, 'CLI: via-client.txt');
    await vscode.commands.executeCommand('patchwork.sync', folder('shared'));
    assert.equal(readFileSync(join(shared, 'via-client.txt'), 'utf8'), 'pulled through a dial-only node\n');
    const file = JSON.parse(readFileSync(join(shared, '.patch', 'peer.json'), 'utf8')) as { owner: string; pid: number };
    assert.deepEqual([file.owner, file.pid], ['cli', child.pid], 'peer.json still names the CLI peer');
    // When it stops, VS Code starts its own.
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
    await vscode.commands.executeCommand('patchwork.startPeer', folder('shared'));
    await waitFor('our peer online again', async () => (await peer()).state.kind === 'online', 10_000);
  });

  test('patchwork.bootstrapPeers reaches the peer: it restarts with a DHT (and without it again)', async () => {
    await set('bootstrapPeers', ['/ip4/127.0.0.1/tcp/9/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA']);
    try {
      await waitFor('the peer to run a DHT', async () => {
        const s = (await peer()).state;
        return s.kind === 'online' && s.discovery.includes('dht');
      }, 10_000);
      // The status bar follows the state on the next change event (statusbar.ts), not in the same tick.
      await waitFor('the sync item to say so', async () => /discovery: dht/.test((await peer()).statusBar.find((c) => c.command === 'patchwork.sync')?.tooltip ?? ''), 5_000);
    } finally {
      await set('bootstrapPeers', undefined);
    }
    await waitFor('the peer without a DHT', async () => {
      const s = (await peer()).state;
      return s.kind === 'online' && s.discovery.length === 0;
    }, 10_000);
  });

  test('Add Collaborator and Remove Collaborator change patchwork.toml and the view', async () => {
    const id = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA';
    const inputs = [id, 'carol', '/ip4/127.0.0.1/tcp/9'];
    prompts = await answer(async (p) => {
      if (p.kind === 'input') {
        const v = inputs.shift()!;
        assert.equal(await p.validate?.(v), undefined, `"${v}" accepted by ${p.prompt}`);
        // The checks run in the peer worker: a wrong peer id or address is refused in words.
        if (v === id) assert.match((await p.validate?.('12D3Koo')) ?? '', /not a peer id/);
        if (v.startsWith('/ip4/')) assert.match((await p.validate?.('10.0.0.2:4100')) ?? '', /such as/);
        return v;
      }
      if (p.kind === 'pick') return p.items.find((i) => i.label === 'Reader');
      return undefined;
    });
    const added = await vscode.commands.executeCommand('patchwork.addCollaborator', folder('shared'));
    assert.ok(added, JSON.stringify(prompts));
    const toml = () => readFileSync(join(folder('shared').fsPath, '.patch', 'patchwork.toml'), 'utf8');
    assert.match(toml(), new RegExp(`peer_id = "${id}"[\\s\\S]*name = "carol"[\\s\\S]*role = "reader"`));
    await waitFor('carol in the view', async () => (await (await testApi()).collaboratorRows()).some((r) => /^\s*carol — …\w{8} · reader/.test(r)));
    // carol is not there: pulling from her alone is one error message with "Show Log".
    prompts = await answer((p) => (p.kind === 'pick' ? p.items.find((i) => i.label === 'carol') : undefined));
    await vscode.commands.executeCommand('patchwork.pullFrom', folder('shared'));
    await waitFor('the error message', () => prompts.some((p) => p.kind === 'message'));
    const error = prompts.find((p) => p.kind === 'message');
    assert.ok(error && error.kind === 'message');
    assert.equal(error.severity, 'error');
    assert.match(error.text, /^Cannot reach carol: it is offline or unreachable at its known addresses\./);
    assert.deepEqual(error.actions, ['Show Log']);
    prompts = await answer((p) => {
      if (p.kind === 'pick') return p.items.find((i) => i.label === 'carol');
      if (p.kind === 'message' && p.modal) return 'Remove';
      return undefined;
    });
    await vscode.commands.executeCommand('patchwork.removeCollaborator', folder('shared'));
    assert.ok(!toml().includes(id));
    const confirm = prompts.find((p) => p.kind === 'message' && p.modal);
    assert.ok(confirm && confirm.kind === 'message' && /^Remove carol/.test(confirm.text));
  });

  test('the history is what both peers agree on', async () => {
    const mine = await Repository.open(folder('shared').fsPath);
    const theirs = await Repository.open(cliRepo());
    const log = async (r: Repository) => {
      const out: string[] = [];
      for await (const e of walkLog(r, { limit: 3 })) out.push(e.id);
      return out;
    };
    assert.deepEqual(await log(mine), await log(theirs));
  });
});
