// Commit from the input box: staged changes only, an empty message refused, smart commit when
// nothing is staged (Yes / Always / Never, remembered in patchwork.smartCommit), Commit All.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { summaryLine, walkLog } from '../../../src/engine';
import { answer, cleanUp, diskStatus, engine, file, repo, setInput, testApi, write } from './util';

async function headSummary(): Promise<string> {
  for await (const e of walkLog(await engine('alpha'), { limit: 1 })) return summaryLine(e.commit.message);
  return '';
}

async function setSmartCommit(value: string | undefined): Promise<void> {
  await vscode.workspace.getConfiguration('patchwork').update('smartCommit', value, vscode.ConfigurationTarget.Global);
}

suite('Commit', () => {
  setup(async () => {
    await cleanUp('alpha');
  });
  teardown(async () => {
    (await testApi()).setResponder(undefined);
    await setSmartCommit(undefined);
    await setInput((await repo('alpha')).sourceControl, '');
    await cleanUp('alpha');
  });

  test('Ctrl+Enter (acceptInputCommand) commits the staged changes with the typed message and clears the box', async () => {
    const alpha = await repo('alpha');
    write('alpha', 'README.md', '# Alpha\n\nCommitted from the view.\n');
    write('alpha', 'unstaged.txt', 'left alone\n');
    await vscode.commands.executeCommand('patchwork.stage', file('alpha', 'README.md'));
    await setInput(alpha.sourceControl, 'Update the README');
    const accept = alpha.sourceControl.acceptInputCommand!;
    await vscode.commands.executeCommand(accept.command, ...(accept.arguments ?? []));
    assert.equal(await headSummary(), 'Update the README');
    const disk = await diskStatus('alpha');
    assert.deepEqual([disk.staged, disk.untracked], [[], ['unstaged.txt']]);
    assert.equal(alpha.sourceControl.inputBox.value, '');
    assert.equal(alpha.state.head.id, (await (await engine('alpha')).headCommit())!);
  });

  test('an empty (or blank) message is refused: nothing is committed and the user is told', async () => {
    const alpha = await repo('alpha');
    write('alpha', 'README.md', 'edit\n');
    await vscode.commands.executeCommand('patchwork.stage', file('alpha', 'README.md'));
    const before = alpha.state.head.id;
    const prompts = await answer(() => undefined);
    await setInput(alpha.sourceControl, '   \n  ');
    await vscode.commands.executeCommand('patchwork.commit', alpha.sourceControl);
    assert.equal((await engine('alpha').then((r) => r.headCommit())), before);
    assert.equal(prompts.length, 1);
    assert.ok(prompts[0].kind === 'message' && /message is empty/.test(prompts[0].text));
    assert.equal((await diskStatus('alpha')).staged.length, 1, 'still staged');
  });

  test('smart commit, "Yes": with nothing staged it asks, then stages everything (untracked too) and commits', async () => {
    const alpha = await repo('alpha');
    write('alpha', 'notes.txt', 'rewritten\n');
    write('alpha', 'added.txt', 'new\n');
    await alpha.refresh();
    const prompts = await answer((p) => (p.kind === 'message' ? 'Yes' : undefined));
    await setInput(alpha.sourceControl, 'Smart commit');
    await vscode.commands.executeCommand('patchwork.commit', alpha.sourceControl);
    assert.equal(prompts.length, 1);
    assert.ok(prompts[0].kind === 'message' && prompts[0].modal);
    assert.deepEqual(prompts[0].kind === 'message' && prompts[0].actions, ['Yes', 'Always', 'Never']);
    assert.equal(await headSummary(), 'Smart commit');
    const disk = await diskStatus('alpha');
    assert.deepEqual([disk.staged, disk.unstaged, disk.untracked], [[], [], []]);
  });

  test('smart commit, "Always" is remembered in patchwork.smartCommit and not asked again', async () => {
    const alpha = await repo('alpha');
    write('alpha', 'notes.txt', 'always 1\n');
    await alpha.refresh();
    const prompts = await answer((p) => (p.kind === 'message' ? 'Always' : undefined));
    await setInput(alpha.sourceControl, 'Always one');
    await vscode.commands.executeCommand('patchwork.commit', alpha.sourceControl);
    assert.equal(await headSummary(), 'Always one');
    assert.equal(vscode.workspace.getConfiguration('patchwork').get('smartCommit'), 'always');
    write('alpha', 'notes.txt', 'always 2\n');
    await alpha.refresh();
    await setInput(alpha.sourceControl, 'Always two');
    await vscode.commands.executeCommand('patchwork.commit', alpha.sourceControl);
    assert.equal(await headSummary(), 'Always two');
    assert.equal(prompts.length, 1, 'asked only the first time');
  });

  test('smart commit, "Never" commits nothing and is remembered', async () => {
    const alpha = await repo('alpha');
    write('alpha', 'notes.txt', 'never\n');
    await alpha.refresh();
    const before = alpha.state.head.id;
    await answer((p) => (p.kind === 'message' ? 'Never' : undefined));
    await setInput(alpha.sourceControl, 'Should not happen');
    await vscode.commands.executeCommand('patchwork.commit', alpha.sourceControl);
    assert.equal(alpha.state.head.id, before);
    assert.equal(vscode.workspace.getConfiguration('patchwork').get('smartCommit'), 'never');
    assert.equal(alpha.sourceControl.inputBox.value, 'Should not happen', 'the message is kept');
  });

  test('Commit All commits every change without asking', async () => {
    const alpha = await repo('alpha');
    write('alpha', 'notes.txt', 'all\n');
    write('alpha', 'src/new.ts', 'export {};\n');
    await alpha.refresh();
    const prompts = await answer(() => undefined);
    await setInput(alpha.sourceControl, 'Everything');
    await vscode.commands.executeCommand('patchwork.commitAll', alpha.sourceControl);
    assert.equal(prompts.length, 0);
    assert.equal(await headSummary(), 'Everything');
    assert.equal((await diskStatus('alpha')).untracked.length, 0);
  });
});
