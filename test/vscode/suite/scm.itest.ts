// The Source Control view follows the repositories: one SourceControl each, groups that track
// file edits (the test writes files with fs and waits for the view), letters, badge, input box,
// status bar, Explorer decorations, and changes made behind the extension's back (the CLI).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as vscode from 'vscode';
import { add, commit } from '../../../src/engine';
import { api, cleanUp, diskStatus, engine, file, folder, groupRows, repo, testApi, waitFor, write } from './util';

suite('Source Control view', () => {
  suiteSetup(async () => {
    await cleanUp('alpha');
  });
  teardown(async () => {
    await cleanUp('alpha');
  });

  test('one SourceControl per repository in the multi-root workspace; none for a folder without one', async () => {
    const a = await api();
    const roots = a.repositories.map((r) => r.rootUri.fsPath).sort();
    for (const name of ['alpha', 'beta']) assert.ok(roots.includes(folder(name).fsPath), `${name} has no SourceControl`);
    assert.ok(!a.getRepository(folder('plain')), 'plain has no repository');
    const alpha = await repo('alpha');
    assert.equal(alpha.sourceControl.id, 'patchwork');
    assert.equal(alpha.sourceControl.rootUri?.fsPath, folder('alpha').fsPath);
    assert.deepEqual(
      Object.values(alpha.groups).map((g) => [g.id, g.label, g.hideWhenEmpty]),
      [
        ['merge', 'Merge Changes', true],
        ['index', 'Staged Changes', true],
        ['workingTree', 'Changes', true],
      ],
    );
    assert.deepEqual(Object.values(alpha.groups).map((g) => g.resourceStates.length), [0, 0, 0], 'a clean repository shows no rows');
    assert.equal(alpha.sourceControl.count, 0);
  });

  test('the groups follow edits, new and deleted files written behind the view (M, U, D struck through)', async () => {
    const alpha = await repo('alpha');
    write('alpha', 'README.md', '# Alpha\n\nChanged on disk.\n');
    write('alpha', 'new-file.txt', 'brand new\n');
    rmSync(file('alpha', 'notes.txt').fsPath);
    await waitFor('three rows in Changes', () => alpha.groups.workingTree.resourceStates.length === 3);
    assert.deepEqual(groupRows(alpha, 'workingTree'), ['M README.md', 'U new-file.txt', 'D notes.txt (struck)']);
    const disk = await diskStatus('alpha');
    assert.deepEqual(disk.unstaged.map((c) => c.path), ['README.md', 'notes.txt']);
    assert.deepEqual(disk.untracked, ['new-file.txt']);
    assert.equal(alpha.sourceControl.count, 3);

    // Put the file back: its row goes away again.
    write('alpha', 'README.md', '# Alpha\n\nA small project tracked by Patchwork.\n');
    await waitFor('README.md to leave Changes', () => groupRows(alpha, 'workingTree').length === 2);
  });

  test('input box placeholder names the branch; Ctrl+Enter runs patchwork.commit', async () => {
    const alpha = await repo('alpha');
    assert.equal(alpha.sourceControl.inputBox.placeholder, "Message (Ctrl+Enter to commit on 'main')");
    assert.equal(alpha.sourceControl.acceptInputCommand?.command, 'patchwork.commit');
  });

  test('the status bar shows the branch, marks changes (* unstaged, + staged) and opens Checkout To', async () => {
    const alpha = await repo('alpha');
    const title = () => alpha.sourceControl.statusBarCommands?.[0]?.title;
    assert.equal(title(), '$(git-branch) main');
    assert.equal(alpha.sourceControl.statusBarCommands?.[0]?.command, 'patchwork.checkout');
    write('alpha', 'src/app.ts', 'console.log("changed");\n');
    await waitFor('status bar to show *', () => title() === '$(git-branch) main*');
    await vscode.commands.executeCommand('patchwork.stage', file('alpha', 'src/app.ts'));
    assert.equal(title(), '$(git-branch) main+');
  });

  test('Explorer decorations: letter and theme colour per changed file, folders coloured too', async () => {
    const t = await testApi();
    const alpha = await repo('alpha');
    write('alpha', 'src/util.ts', 'export const changed = true;\n');
    write('alpha', 'src/extra.ts', 'export {};\n');
    await waitFor('two changes', () => alpha.groups.workingTree.resourceStates.length === 2);
    assert.deepEqual(t.decoration(file('alpha', 'src/util.ts')), {
      badge: 'M',
      tooltip: 'Modified',
      color: 'patchworkDecoration.modifiedResourceForeground',
      propagate: true,
    });
    assert.equal(t.decoration(file('alpha', 'src/extra.ts'))?.badge, 'U');
    assert.equal(t.decoration(file('alpha', 'README.md')), undefined);
  });

  test('a commit made outside the extension (CLI, peer) updates the view through the .patch/ watcher', async () => {
    const alpha = await repo('alpha');
    write('alpha', 'docs/guide.md', '# Guide\n\nStep one.\nStep two.\nStep three.\n');
    await waitFor('guide.md in Changes', () => groupRows(alpha, 'workingTree').includes('M docs/guide.md'));
    const r = await engine('alpha');
    await add(r, ['docs/guide.md']);
    await waitFor('guide.md in Staged Changes', () => groupRows(alpha, 'index').includes('M docs/guide.md'));
    await commit(r, { message: 'Third step, committed from outside' });
    await waitFor('a clean view after the outside commit', () => Object.values(alpha.groups).every((g) => g.resourceStates.length === 0));
    assert.equal(alpha.state.head.id, await r.headCommit());
  });
});
