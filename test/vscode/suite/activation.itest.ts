// The extension loads in a real VS Code build, activates by itself in a workspace that contains
// .patch/ (the harness opens one) quickly, and registers its commands.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID, api, testApi } from './util';

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

  test('every contributed command is registered, and no peer-to-peer command is contributed yet', async () => {
    const contributed = ((vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON.contributes?.commands ?? []) as { command: string }[]).map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(contributed.filter((c) => !registered.has(c)), [], 'contributed but not registered');
    for (const id of ['patchwork.refresh', 'patchwork.init', 'patchwork.commit', 'patchwork.stage', 'patchwork.clean', 'patchwork.checkout', 'patchwork.showLog']) {
      assert.ok(contributed.includes(id), `${id} is not contributed`);
    }
    const p2p = contributed.filter((c) => /clone|pull|push|sync|invite|collaborator/i.test(c));
    assert.deepEqual(p2p, [], 'peer-to-peer commands must wait until they work');
    const ours = [...registered].filter((c) => c.startsWith('patchwork.'));
    assert.deepEqual(ours.filter((c) => !contributed.includes(c)), [], 'registered but not contributed');
  });

  test('the API lists the repositories of the workspace once the scan is done', async () => {
    const a = await api();
    assert.equal(a.version, 1);
    assert.ok(a.repositories.length >= 2);
  });
});
