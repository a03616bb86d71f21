// Shared set-up for the merge, stash, pick, blame and graph tests.
import assert from 'node:assert/strict';
import { PatchworkError, Repository } from '../src/engine';
import { fixedEnv, ok, tmp, write } from './helpers';

fixedEnv();

let clock = 1_700_000_000;
/** Move the commit clock forward, so commits are ordered by time like real ones. */
export function tick(): void {
  clock += 60;
  process.env.PATCHWORK_DATE = String(clock);
}

export function as(name: string): void {
  process.env.PATCHWORK_AUTHOR_NAME = name;
  process.env.PATCHWORK_AUTHOR_EMAIL = `${name.toLowerCase().replace(/\W+/g, '.')}@example.org`;
}

/** A repository with one commit holding `files`. */
export async function repoWith(files: Record<string, string | Buffer>): Promise<string> {
  const dir = tmp('pw-merge-');
  await ok(dir, 'init', 'test');
  for (const [p, c] of Object.entries(files)) write(dir, p, c);
  await commitAll(dir, 'base');
  return dir;
}

/** Stage everything (including deletions) and commit; returns the new commit id. */
export async function commitAll(dir: string, message: string): Promise<string> {
  tick();
  await ok(dir, 'add', '.');
  await ok(dir, 'commit', '-m', message);
  return headId(dir);
}

export async function headId(dir: string): Promise<string> {
  return (await (await Repository.open(dir)).headCommit())!;
}

export async function open(dir: string): Promise<Repository> {
  return Repository.open(dir);
}

/** Assert that a promise rejects with a PatchworkError of this code; returns the error. */
export async function rejectsCode(p: Promise<unknown>, code: string): Promise<PatchworkError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PatchworkError, `expected PatchworkError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    assert.match(e.message, /^\S[^\n]*[.)]$/, 'one sentence on one line');
    assert.ok(e.hint, `${code} comes with a hint`);
    return e;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

/** `status --json` of a repository. */
export async function statusJson(dir: string): Promise<{ staged: unknown[]; unstaged: { path: string }[]; untracked: string[]; conflicts: { path: string; base: boolean; ours: boolean; theirs: boolean }[] }> {
  return JSON.parse((await ok(dir, 'status', '--json')).out);
}
