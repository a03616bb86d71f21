/** Sorting file-watcher events for a repository (pure; used by watcher.ts, tested under node). */
import { isAbsolute, relative, sep } from 'node:path';
import { PATCH_DIR } from '../engine';

const STATE_FILES = new Set(['HEAD', 'index', 'MERGE_HEAD', 'MERGE_MSG', 'patchwork.toml']);

/** What a changed absolute path means for the repository at `root`. */
export function classify(root: string, fsPath: string): { kind: 'worktree'; path: string } | { kind: 'state' | 'full' | 'ignore' } {
  let rel = relative(root, fsPath);
  if (rel === '' || rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) return { kind: 'ignore' };
  if (sep !== '/') rel = rel.split(sep).join('/');
  if (rel === PATCH_DIR) return { kind: 'full' };
  if (rel.startsWith(PATCH_DIR + '/')) {
    const inner = rel.slice(PATCH_DIR.length + 1);
    if (STATE_FILES.has(inner) || inner.startsWith('refs/') || inner === 'refs' || inner.startsWith('merge-state')) return { kind: 'state' };
    return { kind: 'ignore' }; // objects, lock, temporary files
  }
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  if (name === '.patchignore') return { kind: 'full' };
  if (name.includes('.pw-tmp-')) return { kind: 'ignore' }; // the engine's atomic writes; the rename reports the real path
  return { kind: 'worktree', path: rel };
}
