// New repositories: one created from the CLI inside a workspace folder is picked up by the
// watcher; "Initialize Repository" creates one and its Source Control appears.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { Repository } from '../../../src/engine';
import { EXTENSION_ID, api, folder, groupRows, waitFor } from './util';

suite('Initialize Repository', () => {
  test('the welcome view offers "Initialize Repository" and "Clone from a Peer" when there is no repository', () => {
    const welcome = vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON.contributes.viewsWelcome as { view: string; contents: string; when: string }[];
    const scm = welcome.find((w) => w.view === 'scm');
    assert.ok(scm);
    assert.match(scm.contents, /\[Initialize Repository\]\(command:patchwork\.init\)\n\[Clone from a Peer\]\(command:patchwork\.clone\)/);
    assert.match(scm.when, /scm\.providerCount == 0/);
  });

  test('a repository created from the CLI one level below a workspace folder opens by itself', async () => {
    const a = await api();
    const dir = join(folder('plain').fsPath, 'cli-made');
    await Repository.init(dir);
    await waitFor('the CLI-made repository to open', () => !!a.repositories.find((r) => r.rootUri.fsPath === dir));
    assert.equal(a.repositories.find((r) => r.rootUri.fsPath === dir)?.sourceControl.id, 'patchwork');
  });

  test('"Initialize Repository" on a folder creates .patch/ and a Source Control for it', async () => {
    const a = await api();
    const plain = folder('plain');
    assert.ok(!a.getRepository(plain));
    await vscode.commands.executeCommand('patchwork.init', plain);
    assert.ok(existsSync(join(plain.fsPath, '.patch', 'HEAD')));
    const r = a.repositories.find((x) => x.rootUri.fsPath === plain.fsPath);
    assert.ok(r, 'the new repository is open');
    assert.ok(groupRows(r, 'workingTree').includes('U hello.txt'));
    assert.equal(r.sourceControl.statusBarCommands?.[0]?.title, '$(git-branch) main*');
  });
});
