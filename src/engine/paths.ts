import { PatchworkError } from './errors';

/**
 * Validation of names that become files. Applied when adding from the work tree and again when
 * parsing any tree object (which may come from a peer), so checkout can never be steered outside
 * the work tree or into the repository's own metadata.
 */
export function pathComponentProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name === '.' || name === '..') return `is "${name}"`;
  if (/[/\\\0]/.test(name)) return 'contains "/", "\\" or NUL';
  const lower = name.toLowerCase();
  if (lower === '.patch' || lower === '.git') return `is reserved ("${name}")`;
  return undefined;
}

export function assertValidPathComponent(name: string, where: string): void {
  const problem = pathComponentProblem(name);
  if (problem) {
    throw new PatchworkError('INVALID_PATH', `Invalid path component in ${where}: the name ${problem}.`, undefined, { name });
  }
}

/** A repository-relative path with `/` separators: every component valid. */
export function assertValidRepoPath(path: string): void {
  if (path.length > 4096) throw new PatchworkError('INVALID_PATH', 'Path is longer than 4096 characters.', undefined, { path });
  for (const part of path.split('/')) assertValidPathComponent(part, `"${path}"`);
}

const ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\v': '\\v', '\f': '\\f', '\r': '\\r', '"': '\\"', '\\': '\\\\' };

/**
 * A path as git prints it with core.quotePath off: as it is, or in double quotes with C escapes when
 * it holds a control character, a double quote or a backslash, so one path stays one line and one
 * field. Other characters, non-ASCII ones included, are printed as they are.
 */
export function quotePath(path: string): string {
  if (!/[\x00-\x1f\x7f"\\]/.test(path)) return path;
  return `"${path.replace(/[\x00-\x1f\x7f"\\]/g, (c) => ESCAPES[c] ?? `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`)}"`;
}
