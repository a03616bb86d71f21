// Workspaces for the VS Code tests, built with the engine itself: real repositories with history.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Repository, add, commit } from '../../src/engine';

export const AUTHOR = { name: 'Patchwork Test', email: 'test@example.org' };

export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** A repository at `dir` with one commit holding `files`. */
export async function repositoryWith(dir: string, files: Record<string, string>, message = 'Initial commit'): Promise<void> {
  const repo = await Repository.init(dir, { user: AUTHOR });
  writeFiles(dir, files);
  await add(repo, ['']);
  await commit(repo, { message });
}

export const ALPHA_FILES: Record<string, string> = {
  'README.md': '# Alpha\n\nA small project tracked by Patchwork.\n',
  'src/app.ts': "import { greet } from './util';\n\nconsole.log(greet('world'));\n",
  'src/util.ts': 'export function greet(name: string): string {\n  return `Hello, ${name}!`;\n}\n',
  'docs/guide.md': '# Guide\n\nStep one.\nStep two.\n',
  'notes.txt': 'first line\nsecond line\nthird line\n',
};

/** `n` small files in folders of 100, for timing refreshes. */
export function manyFiles(n: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) files[`pkg${String(Math.floor(i / 100)).padStart(2, '0')}/file${i}.ts`] = `export const value${i} = ${i};\n// ${'x'.repeat(i % 80)}\n`;
  return files;
}

export interface Fixture {
  /** Folder holding everything (remove it afterwards). */
  dir: string;
  /** The `.code-workspace` file to open. */
  workspaceFile: string;
}

/**
 * A multi-root workspace: `alpha` and `beta` (repositories), `plain` (no repository) and, if
 * `bigFiles` > 0, `big` (a repository of that many files).
 */
export async function multiRootFixture(opts: { bigFiles: number }): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'patchwork-ws-'));
  await repositoryWith(join(dir, 'alpha'), ALPHA_FILES);
  await repositoryWith(join(dir, 'beta'), { 'index.html': '<!doctype html>\n<title>Beta</title>\n' });
  mkdirSync(join(dir, 'plain'));
  writeFileSync(join(dir, 'plain', 'hello.txt'), 'not tracked by anything yet\n');
  const folders = [{ path: 'alpha' }, { path: 'beta' }, { path: 'plain' }];
  if (opts.bigFiles > 0) {
    await repositoryWith(join(dir, 'big'), manyFiles(opts.bigFiles));
    folders.push({ path: 'big' });
  }
  const workspaceFile = join(dir, 'patchwork.code-workspace');
  writeFileSync(workspaceFile, JSON.stringify({ folders, settings: {} }, null, 2));
  return { dir, workspaceFile };
}
