// patchwork.* settings, read in one place (settings.ts) and honoured: the count badge, the commit
// author handed to the engine, and patchwork.enabled closing and reopening every repository.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, cleanUp, engine, file, folder, repo, setInput, waitFor, write } from './util';

const config = () => vscode.workspace.getConfiguration('patchwork');
const set = (key: string, value: unknown) => config().update(key, value, vscode.ConfigurationTarget.Global);

suite('Settings', () => {
  setup(async () => {
    await cleanUp('alpha');
  });
  teardown(async () => {
    for (const k of ['countBadge', 'author.name', 'author.email', 'enabled']) await set(k, undefined);
    await repo('alpha'); // reopened if a test disabled Patchwork
    await cleanUp('alpha');
  });

  test('patchwork.countBadge: all, tracked (no untracked files), off', async () => {
    const alpha = await repo('alpha');
    write('alpha', 'README.md', 'changed\n');
    write('alpha', 'untracked.txt', 'u\n');
    await alpha.refresh();
    assert.equal(alpha.sourceControl.count, 2);
    await set('countBadge', 'tracked');
    await waitFor('count 1', () => alpha.sourceControl.count === 1);
    await set('countBadge', 'off');
    await waitFor('count 0', () => alpha.sourceControl.count === 0);
  });

  test('patchwork.author.name / email are the author of the next commit', async () => {
    const alpha = await repo('alpha');
    await set('author.name', 'Settings Author');
    await set('author.email', 'settings@example.org');
    write('alpha', 'notes.txt', 'by the settings author\n');
    await vscode.commands.executeCommand('patchwork.stage', file('alpha', 'notes.txt'));
    await setInput(alpha.sourceControl, 'Authored via settings');
    await vscode.commands.executeCommand('patchwork.commit', alpha.sourceControl);
    const r = await engine('alpha');
    const c = await r.readCommit((await r.headCommit())!);
    assert.equal(c.message, 'Authored via settings\n');
    assert.deepEqual([c.author.name, c.author.email], ['Settings Author', 'settings@example.org']);
  });

  test('patchwork.enabled = false closes every repository (no Source Control); true opens them again', async () => {
    const a = await api();
    await set('enabled', false);
    await waitFor('no repositories', () => a.repositories.length === 0);
    await set('enabled', true);
    // Repositories open one after another: wait for both rather than assume the order.
    await waitFor('alpha and beta reopened', () => !!a.getRepository(folder('alpha')) && !!a.getRepository(folder('beta')));
  });
});
