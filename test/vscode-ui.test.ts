// The Source Control view as a user sees it, in headless chromium: staged and unstaged changes
// with their letters and the sync item with incoming/outgoing counts (the workspace is a clone of a
// repository a CLI peer serves), a diff opened by clicking a row, Explorer decorations, and the
// Collaborators view with that peer online. Screenshots are
// written to out/screenshots/ (or, with PATCHWORK_UPDATE_SCREENSHOTS=1, to media/screenshots/,
// which the README shows).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { Repository, add } from '../src/engine';
import { commitFiles, sharedRepository, type CliPeer } from './vscode/cliPeer';
import { writeFiles } from './vscode/fixture';
import { openWorkbench, prerequisiteProblem, projectRoot } from './vscode/harness';

const shots = join(projectRoot, process.env.PATCHWORK_UPDATE_SCREENSHOTS ? 'media/screenshots' : 'out/screenshots');

async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

/**
 * A project served by a CLI peer (Alice, `patchwork start`) and cloned with an invite (Bob, the
 * VS Code side). Alice then commits twice (incoming for Bob) and Bob once (outgoing); Bob also has a
 * staged edit, a staged new file, unstaged edits, a deleted and an untracked file.
 */
async function demoWorkspace(base: string): Promise<{ dir: string; peer: CliPeer }> {
  const dir = join(base, 'weather-app');
  const shared = await sharedRepository({
    origin: join(base, 'alice', 'weather-app'),
    clone: dir,
    name: 'weather-app',
    ownerName: 'Alice',
    cloneName: 'Bob',
    files: {
      'README.md': '# Weather app\n\nShows the forecast for your town.\n',
      'src/forecast.ts': [
        "import { fetchJson } from './http';",
        '',
        'export interface Forecast {',
        '  town: string;',
        '  celsius: number;',
        '}',
        '',
        'export async function forecast(town: string): Promise<Forecast> {',
        "  const data = await fetchJson(`/api/forecast?town=${town}`);",
        '  return { town, celsius: data.temp };',
        '}',
        '',
      ].join('\n'),
      'src/http.ts': 'export async function fetchJson(url: string): Promise<any> {\n  const res = await fetch(url);\n  return res.json();\n}\n',
      'src/legacy.ts': '// Old code, about to go.\nexport const legacy = true;\n',
      'package.json': '{\n  "name": "weather-app",\n  "version": "1.0.0"\n}\n',
    },
  });
  await commitFiles(shared.origin, { 'src/wind.ts': 'export const windSpeed = (kmh: number): string => `${kmh} km/h`;\n' }, 'Add wind speed', { name: 'Alice', email: 'alice@example.org' });
  await commitFiles(shared.origin, { 'CHANGELOG.md': '# Changes\n\n- Wind speed.\n' }, 'Start a changelog', { name: 'Alice', email: 'alice@example.org' });
  await commitFiles(dir, { '.patchignore': 'node_modules/\ndist/\n' }, 'Ignore build output', { name: 'Bob', email: 'bob@example.org' });
  const repo = await Repository.open(dir);
  writeFiles(dir, {
    'README.md': '# Weather app\n\nShows the forecast for your town, in °C or °F.\n',
    'src/units.ts': 'export const toFahrenheit = (c: number): number => (c * 9) / 5 + 32;\n',
  });
  await add(repo, ['README.md', 'src/units.ts']);
  writeFiles(dir, {
    'src/forecast.ts': [
      "import { fetchJson } from './http';",
      "import { toFahrenheit } from './units';",
      '',
      'export interface Forecast {',
      '  town: string;',
      '  celsius: number;',
      '  fahrenheit: number;',
      '}',
      '',
      'export async function forecast(town: string): Promise<Forecast> {',
      '  const data = await fetchJson(`/api/forecast?town=${encodeURIComponent(town)}`);',
      '  return { town, celsius: data.temp, fahrenheit: toFahrenheit(data.temp) };',
      '}',
      '',
    ].join('\n'),
    'package.json': '{\n  "name": "weather-app",\n  "version": "1.1.0"\n}\n',
    'notes.md': '- try the new units\n',
  });
  rmSync(join(dir, 'src/legacy.ts'));
  return { dir, peer: shared.peer };
}

test('UI: the Source Control view with staged and unstaged changes and sync counts, a diff, Explorer decorations, the Collaborators view (screenshots)', { timeout: 180_000 }, async (t) => {
  const problem = prerequisiteProblem();
  assert.ok(!problem, `cannot run the VS Code UI test: ${problem}`);
  const base = mkdtempSync(join(tmpdir(), 'patchwork-ui-'));
  const { dir: workspace, peer } = await demoWorkspace(base);
  mkdirSync(shots, { recursive: true });
  const wb = await openWorkbench({ workspace, settings: { 'workbench.colorTheme': 'Default Dark Modern', 'editor.minimap.enabled': false } });
  try {
    const { page } = wb;
    // The branch item appears in the status bar once the extension has activated and scanned.
    await page.locator('.statusbar-item', { hasText: 'main*+' }).first().waitFor({ timeout: 30_000 });
    // The peer starts after activation and fetches from Alice: 2 commits to pull, 1 to push.
    await page.locator('.statusbar-item', { hasText: '2↓ 1↑' }).first().waitFor({ timeout: 30_000 });
    await runCommand(page, 'Source Control: Focus on Changes View');
    const scm = page.locator('.scm-view');
    await scm.locator('.monaco-list-row', { hasText: 'forecast.ts' }).waitFor();
    const rows = async () => (await scm.locator('.monaco-list-row').allInnerTexts()).map((x) => x.replace(/\s+/g, ' ').trim());
    const text = (await rows()).join('\n');
    for (const expected of ['Staged Changes', 'README.md', 'units.ts', 'Changes', 'forecast.ts', 'legacy.ts', 'notes.md', 'package.json']) {
      assert.ok(text.includes(expected), `"${expected}" in the Source Control view:\n${text}`);
    }
    assert.ok(!text.includes('Merge Changes'), 'the empty Merge Changes group is hidden');
    await page.waitForTimeout(500); // icons and badges settle
    await page.screenshot({ path: join(shots, 'scm-view.png') });

    // Click a row: a diff of the staged version against the work tree opens.
    await scm.locator('.monaco-list-row', { hasText: 'forecast.ts' }).first().click();
    const diff = page.locator('.monaco-diff-editor');
    await diff.waitFor();
    await page.locator('.tab.active', { hasText: 'forecast.ts (Working Tree)' }).waitFor();
    await diff.locator('.line-insert').first().waitFor();
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(shots, 'scm-diff.png') });

    // The Explorer shows the same changes as letters and colours.
    await runCommand(page, 'View: Show Explorer');
    const explorer = page.locator('.explorer-folders-view');
    await explorer.locator('.monaco-list-row', { hasText: 'src' }).first().click();
    if (!(await explorer.locator('.monaco-list-row', { hasText: 'units.ts' }).count())) await page.keyboard.press('ArrowRight');
    await explorer.locator('.monaco-list-row', { hasText: 'units.ts' }).waitFor();
    // Badges are drawn with CSS; the decoration's tooltip is in the row's markup.
    for (const [name, tooltip] of [['forecast.ts', 'Modified'], ['units.ts', 'Index Added'], ['notes.md', 'Untracked']]) {
      const html = await explorer.locator('.monaco-list-row', { hasText: name }).first().evaluate((el) => el.outerHTML);
      assert.ok(html.includes(tooltip), `Explorer row ${name} carries "${tooltip}":\n${html}`);
    }
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(shots, 'explorer-decorations.png') });

    // The Collaborators view (Source Control container): Alice, a writer, online, 2 new commits.
    await runCommand(page, 'Source Control: Focus on Changes View');
    await runCommand(page, 'Focus on Collaborators View');
    const collaborators = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Collaborators' }) });
    const alice = collaborators.locator('.monaco-list-row', { hasText: 'Alice' }).first();
    await alice.waitFor();
    await collaborators.locator('.monaco-list-row', { hasText: 'online' }).first().waitFor({ timeout: 20_000 });
    const row = (await alice.innerText()).replace(/\s+/g, ' ').trim();
    assert.match(row, /^Alice ?…\w{8} · writer · online · 2 new commits$/);
    await alice.locator('.monaco-tl-twistie').click(); // expand: the commits Alice has that Bob lacks
    await collaborators.locator('.monaco-list-row', { hasText: 'Add wind speed' }).waitFor();
    // Room for the descriptions: close the editors and widen the side bar.
    await runCommand(page, 'View: Close All Editors');
    const sidebar = await page.locator('.part.sidebar').boundingBox();
    if (sidebar) {
      await page.mouse.move(sidebar.x + sidebar.width + 1, sidebar.y + 200);
      await page.mouse.down();
      await page.mouse.move(sidebar.x + 560, sidebar.y + 200, { steps: 5 });
      await page.mouse.up();
    }
    await page.mouse.click(900, 500); // focus away from the tree: no selection or hover colours on the rows
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(shots, 'collaborators.png') });
    t.diagnostic(`screenshots in ${shots}`);
  } catch (e) {
    await wb.page.screenshot({ path: join(shots, 'failure.png') }).catch(() => undefined);
    (e as Error).message += `\n--- extension host log ---\n${wb.log()}\n--- server/browser ---\n${wb.diagnostics()}`;
    throw e;
  } finally {
    await wb.close();
    await peer.stop();
    rmSync(base, { recursive: true, force: true });
  }
});
