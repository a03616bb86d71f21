// The patchwork: scheme: HEAD and staged versions read from the object store, the quick-diff
// original resource the gutter uses, and documents that follow HEAD when it moves.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { add, commit, lookupPath } from '../../../src/engine';
import { cleanUp, engine, file, repo, waitFor, write } from './util';

async function headBytes(path: string): Promise<string> {
  const r = await engine('alpha');
  const head = await r.readCommit((await r.headCommit())!);
  const entry = await lookupPath(r, head.tree, path);
  assert.ok(entry, `${path} is in HEAD`);
  return (await r.readBlob(entry.id)).toString('utf8');
}

suite('Original content (patchwork: URIs) and quick diff', () => {
  setup(async () => {
    await cleanUp('alpha');
  });
  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await cleanUp('alpha');
  });

  test('the quick diff provider gives the HEAD version of a tracked file, byte for byte', async () => {
    const alpha = await repo('alpha');
    write('alpha', 'src/app.ts', "import { greet } from './util';\n\nconsole.log(greet('patchwork'));\n");
    await alpha.refresh();
    const provider = alpha.sourceControl.quickDiffProvider;
    assert.ok(provider?.provideOriginalResource);
    const original = await provider.provideOriginalResource(file('alpha', 'src/app.ts'), new vscode.CancellationTokenSource().token);
    assert.ok(original instanceof vscode.Uri);
    assert.equal(original.scheme, 'patchwork');
    assert.deepEqual(JSON.parse(original.query), { path: file('alpha', 'src/app.ts').fsPath, ref: 'HEAD' });
    const doc = await vscode.workspace.openTextDocument(original);
    assert.equal(doc.getText(), await headBytes('src/app.ts'));
    assert.notEqual(doc.getText(), (await vscode.workspace.openTextDocument(file('alpha', 'src/app.ts'))).getText());
  });

  test('no quick diff for untracked files or files outside the work tree', async () => {
    const alpha = await repo('alpha');
    write('alpha', 'fresh.txt', 'new\n');
    await alpha.refresh();
    const token = new vscode.CancellationTokenSource().token;
    const provider = alpha.sourceControl.quickDiffProvider!;
    assert.equal(await provider.provideOriginalResource!(file('alpha', 'fresh.txt'), token), undefined);
    assert.equal(await provider.provideOriginalResource!(file('alpha', '.patch/HEAD'), token), undefined);
  });

  test('the staged version (~) differs from HEAD once a change is staged', async () => {
    write('alpha', 'notes.txt', 'staged content\n');
    await vscode.commands.executeCommand('patchwork.stage', file('alpha', 'notes.txt'));
    const uri = (ref: string) => file('alpha', 'notes.txt').with({ scheme: 'patchwork', query: JSON.stringify({ path: file('alpha', 'notes.txt').fsPath, ref }) });
    assert.equal((await vscode.workspace.openTextDocument(uri('~'))).getText(), 'staged content\n');
    assert.equal((await vscode.workspace.openTextDocument(uri('HEAD'))).getText(), await headBytes('notes.txt'));
  });

  test('an open HEAD document follows HEAD when a commit moves it', async () => {
    const alpha = await repo('alpha');
    const original = (await alpha.sourceControl.quickDiffProvider!.provideOriginalResource!(file('alpha', 'docs/guide.md'), new vscode.CancellationTokenSource().token)) as vscode.Uri;
    const doc = await vscode.workspace.openTextDocument(original);
    await vscode.window.showTextDocument(doc);
    write('alpha', 'docs/guide.md', '# Guide\n\nRewritten and committed.\n');
    const r = await engine('alpha');
    await add(r, ['docs/guide.md']);
    await commit(r, { message: 'Rewrite the guide' });
    await waitFor('the HEAD document to show the new commit', () => doc.getText() === '# Guide\n\nRewritten and committed.\n');
  });
});
