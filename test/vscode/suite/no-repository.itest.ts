// A workspace without a repository (test/vscode.test.ts opens one folder with a plain file): the
// peer worker, started right after activation in case the scan finds a repository, is ended once
// the scan has found none; "Initialize Repository" then starts a new one and the peer listens.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { EXTENSION_ID, api, testApi, waitFor } from './util';

suite('No repository in the workspace', () => {
  test('the peer worker is ended after the scan found no repository, and started again for a new one', async () => {
    // Nothing here activates the extension by itself (no .patch/): the test does, as a command would.
    await vscode.extensions.getExtension(EXTENSION_ID)?.activate();
    const a = await api();
    const t = await testApi();
    assert.deepEqual(a.repositories, []);
    await waitFor('the peer worker to be ended', () => !t.peerWorkerRunning(), 10_000);
    assert.ok(t.startupTimeline().some((m) => m.name.startsWith('peer module loaded')), 'it had started and loaded before the scan ended');

    const root = vscode.workspace.workspaceFolders![0]!.uri;
    await vscode.commands.executeCommand('patchwork.init', root);
    await waitFor('the new repository to open', () => a.repositories.length === 1);
    await waitFor('its peer to listen', () => t.peer(root)?.state.kind === 'online', 15_000);
    assert.ok(t.peerWorkerRunning());
    const s = t.peer(root)!.state;
    assert.ok(s.kind === 'online' && s.addresses.every((x) => x.startsWith('/ip4/127.0.0.1/')), join(root.fsPath, JSON.stringify(s)));
  });
});
