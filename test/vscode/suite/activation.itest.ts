// The extension loads in a real VS Code build, activates by itself in a workspace that contains
// .patch/ (the harness opens one) quickly, and registers its commands.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID, api, folder, testApi, waitFor as waitUntil } from './util';

async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

suite('Extension activation', () => {
  test('the extension is installed and activates on its own in a workspace with .patch/', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
    if (!(await waitFor(() => ext.isActive, 10_000))) {
      await ext.activate(); // surfaces the error thrown by activate(), if that is why
      assert.fail(`${EXTENSION_ID} did not activate from its activation events within 10 s`);
    }
  });

  test('activate() returns quickly: repositories are opened after it returns', async () => {
    const t = await testApi();
    console.log(`[measure] activate() took ${t.activationMs.toFixed(1)} ms`);
    assert.ok(t.activationMs < 250, `activate() took ${t.activationMs} ms`);
  });

  test('every contributed command is registered, the peer-to-peer ones included', async () => {
    const contributed = ((vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON.contributes?.commands ?? []) as { command: string }[]).map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(contributed.filter((c) => !registered.has(c)), [], 'contributed but not registered');
    for (const id of ['patchwork.refresh', 'patchwork.init', 'patchwork.commit', 'patchwork.stage', 'patchwork.clean', 'patchwork.checkout', 'patchwork.showLog']) {
      assert.ok(contributed.includes(id), `${id} is not contributed`);
    }
    for (const id of ['patchwork.clone', 'patchwork.pull', 'patchwork.push', 'patchwork.sync', 'patchwork.invite', 'patchwork.addCollaborator', 'patchwork.removeCollaborator', 'patchwork.pullFrom', 'patchwork.pushTo']) {
      assert.ok(contributed.includes(id), `${id} is not contributed`);
    }
    // VS Code registers commands of its own for the Collaborators view (patchwork.collaborators.focus, …).
    const ours = [...registered].filter((c) => c.startsWith('patchwork.') && !c.startsWith('patchwork.collaborators.'));
    assert.deepEqual(ours.filter((c) => !contributed.includes(c)), [], 'registered but not contributed');
  });

  test('the API lists the repositories of the workspace once the scan is done', async () => {
    const a = await api();
    assert.equal(a.version, 1);
    assert.ok(a.repositories.length >= 2);
  });

  test("each repository's peer starts after activation, listening on 127.0.0.1, with a sync item in its status bar", async () => {
    const t = await testApi();
    for (const name of ['alpha', 'beta']) {
      await waitUntil(`the peer of ${name} to start`, () => t.peer(folder(name))?.state.kind === 'online', 15_000);
      const p = t.peer(folder(name))!;
      assert.ok(p.state.kind === 'online' && p.state.addresses.length > 0);
      for (const a of p.state.kind === 'online' ? p.state.addresses : []) assert.match(a, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);
      // No collaborators: a plain sync item, after the branch item.
      await waitUntil(`the sync item of ${name}`, () => t.peer(folder(name))?.statusBar[1]?.command === 'patchwork.sync');
      assert.equal(t.peer(folder(name))!.statusBar[1]!.title, '$(sync)');
      assert.match(t.peer(folder(name))!.statusBar[1]!.tooltip ?? '', /no collaborators yet/);
    }
    const loadMs = t.peerModuleLoadMs();
    const online = ['alpha', 'beta'].map((n) => t.peer(folder(n))!);
    console.log(
      `[measure] activate() ${t.activationMs.toFixed(1)} ms; then out/peer.js (libp2p) loaded in ${loadMs?.toFixed(0)} ms; ` +
        `peers started in ${online.map((p) => p.startMs?.toFixed(0)).join(', ')} ms, peer listening ${online.map((p) => ((p.onlineAt ?? 0) - t.activatedAt).toFixed(0)).join(', ')} ms after activate() returned`,
    );
    const base = (p: string) => p.replace(/^(.*: ).*[/\\]([^/\\]+)$/, '$1$2');
    console.log(`[measure] start-up timeline (ms after activate() returned): ${t.startupTimeline().map((m) => `${m.ms.toFixed(0)} ${base(m.name)}`).join('; ')}`);
    assert.ok(loadMs !== undefined);
    for (const p of online) assert.ok(p.onlineAt! > t.activatedAt, 'the peers start only after activate() has returned');
    // A peer starts when the scan finds its repository, before the repository's first status walk
    // has finished (which needs the file system; the start is queued at once).
    const names = t.startupTimeline().map((m) => m.name);
    for (const name of ['alpha', 'beta']) {
      const root = folder(name).fsPath;
      const starting = names.indexOf(`peer starting: ${root}`);
      const opened = names.indexOf(`repository opened: ${root}`);
      assert.ok(starting >= 0 && opened >= 0 && starting < opened, `${name}: the peer started before the repository opened (${names.join('; ')})`);
    }
  });
});
