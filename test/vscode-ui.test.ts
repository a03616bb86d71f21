// The Source Control view as a user sees it, in headless chromium: staged and unstaged changes
// with their letters, a diff opened by clicking a row, and Explorer decorations. Screenshots are
// written to out/screenshots/ (or, with PATCHWORK_UPDATE_SCREENSHOTS=1, to media/screenshots/,
// which the README shows).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { Repository, add } from '../src/engine';
import { repositoryWith, writeFiles } from './vscode/fixture';
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

/** A project with a commit, then: a staged edit, a staged new file, unstaged edits, a deleted and an untracked file. */
async function demoWorkspace(): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'patchwork-ui-')), 'weather-app');
  await repositoryWith(dir, {
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
  });
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
  return dir;
}

test('UI: the Source Control view with staged and unstaged changes, a diff, Explorer decorations (screenshots)', { timeout: 150_000 }, async (t) => {
  const problem = prerequisiteProblem();
  assert.ok(!problem, `cannot run the VS Code UI test: ${problem}`);
  const workspace = await demoWorkspace();
  mkdirSync(shots, { recursive: true });
  const wb = await openWorkbench({ workspace, settings: { 'workbench.colorTheme': 'Default Dark Modern', 'editor.minimap.enabled': false } });
  try {
    const { page } = wb;
    // The branch item appears in the status bar once the extension has activated and scanned.
    await page.locator('.statusbar-item', { hasText: 'main*+' }).first().waitFor({ timeout: 30_000 });
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
    t.diagnostic(`screenshots in ${shots}`);
  } catch (e) {
    await wb.page.screenshot({ path: join(shots, 'failure.png') }).catch(() => undefined);
    (e as Error).message += `\n--- extension host log ---\n${wb.log()}\n--- server/browser ---\n${wb.diagnostics()}`;
    throw e;
  } finally {
    await wb.close();
    rmSync(join(workspace, '..'), { recursive: true, force: true });
  }
});
