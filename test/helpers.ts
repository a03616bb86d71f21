import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';
import { main } from '../src/cli/main';
import { Repository, add, commit } from '../src/engine';

const made: string[] = [];
after(() => {
  if (!process.env.KEEP_TMP) for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test file ends. */
export function tmp(prefix = 'pw-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export function write(root: string, path: string, content: string | Buffer): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

export function read(root: string, path: string): string {
  return readFileSync(join(root, path), 'utf8');
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Run the CLI in-process (same code as the `patchwork` binary, minus process start-up). */
export async function pw(cwd: string, ...argv: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await main(argv, { cwd, out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

/** Like pw() but fails the test when the command fails. */
export async function ok(cwd: string, ...argv: string[]): Promise<CliResult> {
  const r = await pw(cwd, ...argv);
  if (r.code !== 0) throw new Error(`patchwork ${argv.join(' ')} exited ${r.code}\n${r.out}${r.err}`);
  return r;
}

/** Fixed identity and clock so ids are reproducible (and comparable with git). */
export function fixedEnv(): void {
  process.env.PATCHWORK_AUTHOR_NAME = 'Alice Example';
  process.env.PATCHWORK_AUTHOR_EMAIL = 'alice@example.org';
  process.env.PATCHWORK_DATE = '1700000000';
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: cwd, GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' },
  });
}

export function gitStatus(cwd: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, HOME: cwd } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file under a folder with its bytes, for "nothing changed" assertions. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const p = rel ? `${rel}/${name}` : name;
      const st = statSync(join(dir, p), { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(p);
      else if (st) out.set(p, readFileSync(join(dir, p)).toString('base64') + `:${st.mode.toString(8)}`);
    }
  };
  walk('');
  return out;
}

/** A repository named `name` (author `name`) whose first commit holds `files`. */
export async function namedRepo(name: string, files: Record<string, string>): Promise<Repository> {
  const dir = tmp(`pw-${name}-`);
  const repo = await Repository.init(dir, { name, user: { name, email: `${name}@example.org` } });
  for (const [p, c] of Object.entries(files)) write(dir, p, c);
  await add(repo, ['']);
  await commit(repo, { message: `${name}: first` });
  return repo;
}
