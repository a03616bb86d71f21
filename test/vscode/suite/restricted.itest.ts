// Restricted Mode (an untrusted workspace; run separately, see test/vscode.test.ts): the view
// shows changes, every write is refused, and not even the stat cache in .patch/index is written.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { answer, diskStatus, file, folder, groupRows, read, repo, setInput, testApi, waitFor, write } from './util';
import type { PeerState } from '../../../src/extension/syncLabels';

suite('Restricted Mode', () => {
  teardown(async () => (await testApi()).setResponder(undefined));

  test('the workspace is untrusted and the extension runs (limited support)', async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    const alpha = await repo('alpha');
    assert.equal(alpha.sourceControl.statusBarCommands?.[0]?.title, '$(git-branch) main');
  });

  test('changes are shown; the index file is never written, not even to cache stat data', async () => {
    const alpha = await repo('alpha');
    const index = join(folder('alpha').fsPath, '.patch', 'index');
    const before = statSync(index).mtimeMs;
    write('alpha', 'README.md', 'edited while untrusted\n');
    await waitFor('README.md in Changes', () => groupRows(alpha, 'workingTree').includes('M README.md'));
    await alpha.refresh();
    assert.equal(statSync(index).mtimeMs, before);
  });

  test('stage, commit, discard and init are refused with a message, and nothing changes on disk', async () => {
    const alpha = await repo('alpha');
    const prompts = await answer((p) => (p.kind === 'message' && p.modal ? p.actions[0] : undefined));
    await vscode.commands.executeCommand('patchwork.stage', file('alpha', 'README.md'));
    await setInput(alpha.sourceControl, 'untrusted commit');
    await vscode.commands.executeCommand('patchwork.commitAll', alpha.sourceControl);
    await vscode.commands.executeCommand('patchwork.clean', file('alpha', 'README.md'));
    await vscode.commands.executeCommand('patchwork.init', folder('plain'));
    const refusals = prompts.filter((p) => p.kind === 'message' && /Restricted Mode/.test(p.text));
    assert.equal(refusals.length, 4, JSON.stringify(prompts));
    const disk = await diskStatus('alpha');
    assert.deepEqual([disk.staged, disk.unstaged.map((c) => c.path)], [[], ['README.md']]);
    assert.equal(read('alpha', 'README.md'), 'edited while untrusted\n');
  });

  test('no peer and no peer worker are started and no sync item is shown; pull, push and invite are refused', async () => {
    const t = await testApi();
    await repo('alpha');
    const stopped = (s: PeerState | undefined) => s?.kind === 'stopped' && /Restricted Mode/.test(s.reason);
    await waitFor('its peer to say it is stopped for Restricted Mode', () => stopped(t.peer(folder('alpha'))?.state), 10_000);
    await new Promise((r) => setTimeout(r, 300)); // time for a wrongly started worker to show
    const p = t.peer(folder('alpha'))!;
    assert.ok(stopped(p.state), JSON.stringify(p.state));
    assert.equal(t.peerWorkerRunning(), false, 'no worker loads libp2p in Restricted Mode');
    assert.equal(t.peerModuleLoadMs(), undefined);
    const rows = await t.collaboratorRows();
    assert.ok(rows.some((r) => /^\s*Restricted Mode — trust this workspace to see and reach its collaborators$/.test(r)), rows.join('\n'));
    assert.deepEqual(p.statusBar.map((c) => c.command), ['patchwork.checkout']);
    assert.ok(!existsSync(join(folder('alpha').fsPath, '.patch', 'peer.json')));
    const prompts = await answer(() => undefined);
    for (const c of ['patchwork.pull', 'patchwork.push', 'patchwork.sync', 'patchwork.invite', 'patchwork.clone']) await vscode.commands.executeCommand(c, folder('alpha'));
    assert.equal(prompts.filter((x) => x.kind === 'message' && /Restricted Mode/.test(x.text)).length, 5, JSON.stringify(prompts));
    await vscode.commands.executeCommand('patchwork.refreshCollaborators');
    assert.equal(t.peerWorkerRunning(), false, 'neither the refused commands nor Refresh Collaborators started a worker');
  });
});
