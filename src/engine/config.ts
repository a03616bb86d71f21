import { readFileSync } from 'node:fs';
import { parse, stringify } from 'smol-toml';
import { PatchworkError, errnoCode } from './errors';
import { atomicWrite, readTextIfExists } from './fsutil';

/**
 * `.patch/patchwork.toml`. Sections this engine does not know (collaborators, settings added by the
 * p2p layer) are kept as they are on rewrite. Secrets never live here.
 */
export interface RepoConfig {
  repository: { name: string; id: string; default_branch: string };
  user?: { name?: string; email?: string };
  [section: string]: unknown;
}

export async function readConfig(path: string): Promise<RepoConfig> {
  return parseConfig(await readTextIfExists(path), path);
}

/**
 * `readConfig` with a synchronous read, for a start path in a worker thread (the extension's peer):
 * an asynchronous read is several trips through libuv's thread pool, which the whole process shares
 * and the editor's own file I/O keeps busy while VS Code starts.
 */
export function readConfigSync(path: string): RepoConfig {
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT' && errnoCode(e) !== 'ENOTDIR') throw e;
  }
  return parseConfig(text, path);
}

function parseConfig(text: string | undefined, path: string): RepoConfig {
  if (text === undefined) throw new PatchworkError('INVALID_CONFIG', `The repository configuration ${path} is missing.`);
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new PatchworkError('INVALID_CONFIG', `The repository configuration is not valid TOML: ${(e as Error).message.split('\n')[0]}`, `Fix or restore ${path}.`);
  }
  const repo = doc.repository as RepoConfig['repository'] | undefined;
  if (!repo || typeof repo.name !== 'string' || typeof repo.id !== 'string') {
    throw new PatchworkError('INVALID_CONFIG', 'The repository configuration has no [repository] name and id.', `Fix or restore ${path}.`);
  }
  if (typeof repo.default_branch !== 'string') repo.default_branch = 'main';
  return doc as RepoConfig;
}

export async function writeConfig(path: string, config: RepoConfig): Promise<void> {
  await atomicWrite(path, stringify(config) + '\n');
}

/** Read `a.b` style keys for `patchwork config`. */
export function getConfigValue(config: RepoConfig, key: string): unknown {
  let cur: unknown = config;
  for (const part of key.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function setConfigValue(config: RepoConfig, key: string, value: string): void {
  const parts = key.split('.');
  if (parts.length !== 2 || !parts.every((p) => /^[a-z_][a-z0-9_-]*$/i.test(p))) {
    throw new PatchworkError('INVALID_ARGUMENT', `"${key}" is not a configuration key of the form section.name.`, 'For example: patchwork config user.name "Ada Lovelace"');
  }
  if (parts[0] === 'repository' && parts[1] === 'id') throw new PatchworkError('INVALID_ARGUMENT', 'The repository id cannot be changed.');
  const section = (config[parts[0]] ??= {}) as Record<string, unknown>;
  if (typeof section !== 'object' || Array.isArray(section)) throw new PatchworkError('INVALID_ARGUMENT', `"${parts[0]}" is not a configuration section.`);
  section[parts[1]] = value === 'true' ? true : value === 'false' ? false : value;
}
