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
