// Smoke test: the extension loads in a real VS Code build, activates by itself in a workspace that
// contains .patch/ (the harness opens one) and registers its commands.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'patchwork.patchwork-vcs';

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

  test('patchwork.refresh is contributed and registered', async () => {
    const contributed = (vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON.contributes?.commands ?? []) as {
      command: string;
    }[];
    assert.ok(
      contributed.some((c) => c.command === 'patchwork.refresh'),
      'package.json does not contribute patchwork.refresh',
    );
    const registered = await vscode.commands.getCommands(true);
    assert.ok(registered.includes('patchwork.refresh'), 'patchwork.refresh is not registered');
  });
});
