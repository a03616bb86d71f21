// Stage, unstage and discard through the commands, checked against the repository on disk.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { answer, cleanUp, diskStatus, file, groupRows, read, repo, testApi, write } from './util';

suite('Stage, unstage, discard', () => {
  setup(async () => {
    await cleanUp('alpha');
  });
  teardown(async () => {
    (await testApi()).setResponder(undefined);
    await cleanUp('alpha');
  });

  test('Stage Changes on a row moves the file to Staged Changes (and into the index on disk)', async () => {
    const alpha = await repo('alpha');
    write('alpha', 'README.md', '# Alpha\n\nStaged edit.\n');
    await alpha.refresh();
    const row = alpha.groups.workingTree.resourceStates[0];
    await vscode.commands.executeCommand('patchwork.stage', row);
    assert.deepEqual((await diskStatus('alpha')).staged, [{ path: 'README.md', kind: 'modified' }]);
    assert.deepEqual(groupRows(alpha, 'index'), ['M README.md']);
    assert.deepEqual(groupRows(alpha, 'workingTree'), []);
  });

  test('several selected rows are staged together; a deleted file stages its deletion', async () => {
    const alpha = await repo('alpha');
    write('alpha', 'a.txt', 'a\n');
    write('alpha', 'b.txt', 'b\n');
    const { rmSync } = await import('node:fs');
    rmSync(file('alpha', 'notes.txt').fsPath);
    await alpha.refresh();
    const rows = alpha.groups.workingTree.resourceStates;
    assert.equal(rows.length, 3);
    // VS Code passes the clicked row, then all selected rows.
    await vscode.commands.executeCommand('patchwork.stage', rows[0], rows);
    assert.deepEqual(groupRows(alpha, 'index'), ['A a.txt', 'A b.txt', 'D notes.txt (struck)']);
    assert.deepEqual((await diskStatus('alpha')).staged.map((c) => `${c.kind} ${c.path}`), ['added a.txt', 'added b.txt', 'deleted notes.txt']);
  });

  test('Unstage Changes and Unstage All Changes (group header) put the index back to HEAD', async () => {
    const alpha = await repo('alpha');
    write('alpha', 'README.md', 'x\n');
    write('alpha', 'c.txt', 'c\n');
    await vscode.commands.executeCommand('patchwork.stageAll', alpha.groups.workingTree);
    assert.equal((await diskStatus('alpha')).staged.length, 2);
    await vscode.commands.executeCommand('patchwork.unstage', file('alpha', 'README.md'));
    assert.deepEqual((await diskStatus('alpha')).staged, [{ path: 'c.txt', kind: 'added' }]);
    await vscode.commands.executeCommand('patchwork.unstageAll', alpha.groups.index);
    const disk = await diskStatus('alpha');
    assert.deepEqual(disk.staged, []);
    assert.deepEqual(disk.untracked, ['c.txt']);
    assert.deepEqual(groupRows(alpha, 'workingTree'), ['M README.md', 'U c.txt']);
    assert.equal(read('alpha', 'README.md'), 'x\n', 'unstaging never touches the file');
  });

  test('Discard asks first (modal) and does nothing when the answer is Cancel', async () => {
    const alpha = await repo('alpha');
    write('alpha', 'README.md', 'precious edit\n');
    await alpha.refresh();
    const prompts = await answer(() => undefined); // Cancel / Escape
    await vscode.commands.executeCommand('patchwork.clean', alpha.groups.workingTree.resourceStates[0]);
    assert.equal(prompts.length, 1);
    const p = prompts[0];
    assert.ok(p.kind === 'message' && p.modal && p.severity === 'warning', 'a modal warning');
    assert.match(p.text, /discard changes in README\.md/);
    assert.equal(read('alpha', 'README.md'), 'precious edit\n');
  });

  test('Discard with confirmation restores a tracked file; an untracked file is deleted (with its own warning)', async () => {
    const alpha = await repo('alpha');
    const original = read('alpha', 'src/util.ts');
    write('alpha', 'src/util.ts', 'broken\n');
    write('alpha', 'scratch.txt', 'temporary\n');
    await alpha.refresh();
    const prompts = await answer((p) => (p.kind === 'message' ? p.actions[0] : undefined));
    await vscode.commands.executeCommand('patchwork.clean', file('alpha', 'src/util.ts'));
    assert.equal(read('alpha', 'src/util.ts'), original);
    await vscode.commands.executeCommand('patchwork.clean', file('alpha', 'scratch.txt'));
    assert.ok(!existsSync(file('alpha', 'scratch.txt').fsPath));
    assert.deepEqual(
      prompts.map((p) => (p.kind === 'message' ? p.actions : [])),
      [['Discard File'], ['Delete File']],
    );
    assert.deepEqual(groupRows(alpha, 'workingTree'), []);
  });

  test('Discard All Changes (group header) confirms once for everything, untracked files named', async () => {
    const alpha = await repo('alpha');
    write('alpha', 'README.md', 'x\n');
    write('alpha', 'notes.txt', 'y\n');
    write('alpha', 'tmp/one.txt', '1\n');
    await alpha.refresh();
    const prompts = await answer((p) => (p.kind === 'message' ? p.actions[0] : undefined));
    await vscode.commands.executeCommand('patchwork.cleanAll', alpha.groups.workingTree);
    assert.equal(prompts.length, 1);
    const p = prompts[0];
    assert.ok(p.kind === 'message');
    assert.deepEqual(p.actions, ['Discard All 3 Files']);
    assert.match(p.detail ?? '', /DELETE 1 untracked file/);
    const disk = await diskStatus('alpha');
    assert.deepEqual([disk.unstaged, disk.untracked], [[], []]);
  });

  test('Open Changes on a modified file opens a diff of the staged version against the file; Open File opens the file', async () => {
    const alpha = await repo('alpha');
    write('alpha', 'notes.txt', 'first line\nchanged line\nthird line\n');
    await alpha.refresh();
    await vscode.commands.executeCommand('patchwork.openChange', file('alpha', 'notes.txt'));
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    assert.ok(input instanceof vscode.TabInputTextDiff, 'a diff editor is active');
    assert.equal(input.original.scheme, 'patchwork');
    assert.equal(JSON.parse(input.original.query).ref, '~');
    assert.equal(input.modified.toString(), file('alpha', 'notes.txt').toString());
    assert.equal(vscode.window.tabGroups.activeTabGroup.activeTab?.label, 'notes.txt (Working Tree)');
    // Open File from the diff (editor title) or the row opens the file itself.
    await vscode.commands.executeCommand('patchwork.openFile', input.original);
    assert.equal(vscode.window.activeTextEditor?.document.uri.toString(), file('alpha', 'notes.txt').toString());
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
