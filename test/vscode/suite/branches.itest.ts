// Checkout To…, Create / Delete Branch, Merge Branch… with conflicts in "Merge Changes", Abort
// Merge, and the stash commands: driven through the pickers (answered by the test) and checked on disk.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { add, checkout, commit, listBranches, readMergeHeads, stashList } from '../../../src/engine';
import type { Prompt } from '../../../src/extension/ui';
import { answer, cleanUp, diskStatus, engine, file, groupRows, read, repo, setInput, testApi, waitFor, write } from './util';

/** Pick the item whose label is `label` (pickers), type `text` (inputs), confirm modals with their first action. */
function script(picks: string[], text?: string): (p: Prompt) => string | vscode.QuickPickItem | undefined {
  return (p) => {
    if (p.kind === 'pick') return p.items.find((i) => i.label === picks[0] && picks.shift() !== undefined);
    if (p.kind === 'input') return text;
    return p.kind === 'message' && p.modal ? p.actions[0] : undefined;
  };
}

const title = async () => (await repo('beta')).sourceControl.statusBarCommands?.[0]?.title;

suite('Branches, merge and stash', () => {
  suiteSetup(async () => {
    // A side branch that changes index.html one way while main changes it another.
    const r = await engine('beta');
    await checkout(r, undefined, { newBranch: 'side' });
    write('beta', 'index.html', '<!doctype html>\n<title>Beta from side</title>\n');
    await add(r, ['index.html']);
    await commit(r, { message: 'Side title' });
    await checkout(r, 'main');
    write('beta', 'index.html', '<!doctype html>\n<title>Beta from main</title>\n');
    await add(r, ['index.html']);
    await commit(r, { message: 'Main title' });
    await (await repo('beta')).refresh();
  });
  teardown(async () => {
    (await testApi()).setResponder(undefined);
  });

  test('Checkout to… lists branches, tags and commits and switches (status bar and disk follow)', async () => {
    const prompts = await answer(script(['side']));
    await vscode.commands.executeCommand('patchwork.checkout', (await repo('beta')).sourceControl);
    const pick = prompts.find((p) => p.kind === 'pick');
    assert.ok(pick && pick.kind === 'pick');
    const labels = pick.items.map((i) => i.label);
    assert.deepEqual(labels.slice(0, 2), ['$(plus) Create new branch...', '$(plus) Create new branch from...']);
    for (const x of ['branches', 'main', 'side', 'recent commits']) assert.ok(labels.includes(x), `${x} in ${labels.join(', ')}`);
    assert.equal(read('beta', 'index.html'), '<!doctype html>\n<title>Beta from side</title>\n');
    assert.equal(await title(), '$(git-branch) side');
    assert.equal((await repo('beta')).sourceControl.inputBox.placeholder, "Message (Ctrl+Enter to commit on 'side')");
    await answer(script(['main']));
    await vscode.commands.executeCommand('patchwork.checkout', (await repo('beta')).sourceControl);
    assert.equal(await title(), '$(git-branch) main');
  });

  test('"Create new branch..." creates a branch at HEAD and switches to it; an invalid name is not accepted', async () => {
    const prompts = await answer(script(['$(plus) Create new branch...'], 'bad name'));
    await vscode.commands.executeCommand('patchwork.checkout', (await repo('beta')).sourceControl);
    const input = prompts.find((p) => p.kind === 'input');
    assert.ok(input?.kind === 'input' && (await input.validate?.('bad name')), 'the input box validates names');
    assert.equal(await title(), '$(git-branch) main', 'nothing was created');
    await answer(script([], 'topic/one'));
    await vscode.commands.executeCommand('patchwork.branch', (await repo('beta')).sourceControl);
    assert.equal(await title(), '$(git-branch) topic/one');
    const r = await engine('beta');
    const head = await r.head();
    assert.equal(head.kind === 'branch' ? head.branch : head.id, 'topic/one');
    await checkout(r, 'main');
    await (await repo('beta')).refresh();
  });

  test('Delete Branch: a merged branch goes at once; an unmerged one only after a modal "Delete Branch"', async () => {
    await answer(script(['topic/one']));
    await vscode.commands.executeCommand('patchwork.deleteBranch', (await repo('beta')).sourceControl);
    let names = (await listBranches(await engine('beta'))).map((b) => b.name);
    assert.ok(!names.includes('topic/one'));
    const r = await engine('beta');
    await checkout(r, undefined, { newBranch: 'doomed' });
    write('beta', 'doomed.txt', 'x\n');
    await add(r, ['doomed.txt']);
    await commit(r, { message: 'Doomed work' });
    await checkout(r, 'main');
    await (await repo('beta')).refresh();
    const prompts = await answer(script(['doomed']));
    await vscode.commands.executeCommand('patchwork.deleteBranch', (await repo('beta')).sourceControl);
    const modal = prompts.find((p) => p.kind === 'message' && p.modal);
    assert.ok(modal?.kind === 'message' && /not fully merged/.test(modal.text));
    names = (await listBranches(await engine('beta'))).map((b) => b.name);
    assert.ok(!names.includes('doomed'));
  });

  test('Merge Branch… with a conflict: "Merge Changes" shows C, the status bar says Merging, the input box holds the message', async () => {
    const beta = await repo('beta');
    await answer(script(['side']));
    await vscode.commands.executeCommand('patchwork.merge', beta.sourceControl);
    assert.deepEqual(groupRows(beta, 'merge'), ['C index.html']);
    assert.equal(beta.groups.merge.resourceStates[0].decorations?.tooltip, 'Conflict: Both Modified');
    assert.equal(await title(), '$(git-merge) main! (Merging)');
    await waitFor('the merge message in the input box', () => /^Merge side/.test(beta.sourceControl.inputBox.value));
    assert.deepEqual((await diskStatus('beta')).conflicts.map((c) => c.path), ['index.html']);
    // Commit All refuses while conflicts are unresolved (it would commit the markers).
    await answer(() => undefined);
    await vscode.commands.executeCommand('patchwork.commitAll', beta.sourceControl);
    assert.equal((await readMergeHeads(await engine('beta'))).length, 1, 'still merging');
    assert.match(read('beta', 'index.html'), /<<<<<<< ours/);
  });

  test('staging a file that still has conflict markers asks first; resolving, staging and committing ends the merge', async () => {
    const beta = await repo('beta');
    let prompts = await answer(() => undefined); // decline
    await vscode.commands.executeCommand('patchwork.stage', beta.groups.merge.resourceStates[0]);
    assert.ok(prompts[0]?.kind === 'message' && /with merge conflicts/.test(prompts[0].text));
    assert.deepEqual(groupRows(beta, 'merge'), ['C index.html'], 'still a conflict');
    write('beta', 'index.html', '<!doctype html>\n<title>Beta from both</title>\n');
    prompts = await answer(() => undefined);
    await vscode.commands.executeCommand('patchwork.stageAllMerge', beta.groups.merge);
    assert.equal(prompts.length, 0, 'no question once the markers are gone');
    assert.deepEqual(groupRows(beta, 'index'), ['M index.html']);
    await vscode.commands.executeCommand('patchwork.commit', beta.sourceControl);
    const r = await engine('beta');
    const head = await r.readCommit((await r.headCommit())!);
    assert.equal(head.parents.length, 2);
    assert.equal(await title(), '$(git-branch) main');
  });

  test('Abort Merge puts everything back as it was before the merge', async () => {
    const r = await engine('beta');
    await checkout(r, undefined, { newBranch: 'side2' });
    write('beta', 'index.html', 'side2\n');
    await add(r, ['index.html']);
    await commit(r, { message: 'side2' });
    await checkout(r, 'main');
    write('beta', 'index.html', 'main again\n');
    await add(r, ['index.html']);
    await commit(r, { message: 'main again' });
    const before = await r.headCommit();
    const beta = await repo('beta');
    await beta.refresh();
    await answer(script(['side2']));
    await vscode.commands.executeCommand('patchwork.merge', beta.sourceControl);
    assert.deepEqual(groupRows(beta, 'merge'), ['C index.html']);
    await vscode.commands.executeCommand('patchwork.mergeAbort', beta.sourceControl);
    assert.equal(read('beta', 'index.html'), 'main again\n');
    assert.equal(await r.headCommit(), before);
    assert.deepEqual(groupRows(beta, 'merge'), []);
    await setInput(beta.sourceControl, '');
  });

  test('Stash and Pop Stash: changes go away and come back', async () => {
    const beta = await repo('beta');
    write('beta', 'index.html', 'work in progress\n');
    await beta.refresh();
    await answer(script([], 'wip'));
    await vscode.commands.executeCommand('patchwork.stash', beta.sourceControl);
    assert.deepEqual(groupRows(beta, 'workingTree'), []);
    const list = await stashList(await engine('beta'));
    assert.equal(list.length, 1);
    assert.match(list[0].message, /wip/);
    await answer((p) => (p.kind === 'pick' ? p.items[0] : undefined));
    await vscode.commands.executeCommand('patchwork.stashPop', beta.sourceControl);
    assert.equal(read('beta', 'index.html'), 'work in progress\n');
    assert.equal((await stashList(await engine('beta'))).length, 0);
    await cleanUp('beta');
  });

  test('errors are one message with a "Show Log" button', async () => {
    const beta = await repo('beta');
    write('beta', 'index.html', 'dirty\n');
    await beta.refresh();
    const prompts = await answer(script(['side']));
    await vscode.commands.executeCommand('patchwork.checkout', beta.sourceControl);
    const err = prompts.find((p) => p.kind === 'message' && p.severity === 'error');
    assert.ok(err?.kind === 'message', 'an error was shown');
    assert.match(err.text, /local changes would be overwritten/i);
    assert.deepEqual(err.actions, ['Show Log']);
    assert.equal(read('beta', 'index.html'), 'dirty\n');
    assert.ok(file('beta', 'index.html'));
    await cleanUp('beta');
  });
});
