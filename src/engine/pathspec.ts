import { isAbsolute, relative, resolve, sep } from 'node:path';
import { PatchworkError } from './errors';

/**
 * Turn a user's path (relative to `cwd`, or absolute) into a repository-relative, `/`-separated
 * path; '' stands for the whole work tree.
 */
export function toRepoPath(root: string, cwd: string, input: string): string {
  const abs = isAbsolute(input) ? resolve(input) : resolve(cwd, input);
  const rel = relative(root, abs);
  if (rel === '') return '';
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new PatchworkError('PATH_OUTSIDE_REPOSITORY', `${input} is outside the repository at ${root}.`, undefined, { path: input });
  }
  return sep === '/' ? rel : rel.split(sep).join('/');
}

/** Does `path` fall under the pathspec `spec` ('' matches everything, a folder matches what is in it)? */
export function matchesSpec(path: string, spec: string): boolean {
  return spec === '' || path === spec || path.startsWith(spec + '/');
}

export function matchesAny(path: string, specs: readonly string[]): boolean {
  return specs.some((s) => matchesSpec(path, s));
}
