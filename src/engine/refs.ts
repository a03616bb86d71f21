import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { PatchworkError, errnoCode } from './errors';
import { atomicWrite, readTextIfExists } from './fsutil';
import { isObjectId } from './hash';

/**
 * HEAD and refs under `.patch/`: `HEAD` holds `ref: refs/heads/<branch>` (attached, possibly unborn)
 * or a commit id (detached); each ref is a file holding one commit id. Callers hold the repository
 * lock when writing.
 */
export type Head =
  | { kind: 'branch'; branch: string; id: string | undefined }
  | { kind: 'detached'; id: string };

export const HEADS = 'refs/heads/';
export const TAGS = 'refs/tags/';

/** git's check-ref-format rules for one branch or tag name (which may contain `/`). */
export function refNameProblem(name: string): string | undefined {
  if (!name) return 'is empty';
  if (name.length > 200) return 'is longer than 200 characters';
  if (name === '@' || name === 'HEAD') return `"${name}" is reserved`;
  if (name.startsWith('-')) return 'starts with "-"';
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return 'contains a space, control character or one of ~ ^ : ? * [ \\';
  if (name.includes('..') || name.includes('@{') || name.includes('//')) return 'contains "..", "@{" or "//"';
  if (name.startsWith('/') || name.endsWith('/') || name.endsWith('.')) return 'starts or ends with "/" or ends with "."';
  for (const part of name.split('/')) {
    if (part.startsWith('.') || part.endsWith('.lock')) return 'has a component that starts with "." or ends with ".lock"';
  }
  return undefined;
}

export function assertValidRefName(name: string, what = 'branch'): void {
  const problem = refNameProblem(name);
  if (problem) throw new PatchworkError('INVALID_NAME', `"${name}" is not a valid ${what} name: it ${problem}.`, undefined, { name });
}

export class Refs {
  constructor(readonly patchDir: string) {}

  async readHead(): Promise<Head> {
    const text = (await readTextIfExists(join(this.patchDir, 'HEAD')))?.trim();
    if (text === undefined) throw new PatchworkError('CORRUPT_INDEX', 'The repository has no HEAD file.', 'The .patch folder is damaged.');
    if (text.startsWith('ref: ')) {
      const ref = text.slice(5);
      if (!ref.startsWith(HEADS)) throw new PatchworkError('CORRUPT_INDEX', `HEAD points at an unexpected ref "${ref}".`);
      return { kind: 'branch', branch: ref.slice(HEADS.length), id: await this.read(ref) };
    }
    if (!isObjectId(text)) throw new PatchworkError('CORRUPT_INDEX', 'HEAD holds neither a branch nor a commit id.');
    return { kind: 'detached', id: text };
  }

  async setHead(head: { kind: 'branch'; branch: string } | { kind: 'detached'; id: string }): Promise<void> {
    const text = head.kind === 'branch' ? `ref: ${HEADS}${head.branch}\n` : `${head.id}\n`;
    await atomicWrite(join(this.patchDir, 'HEAD'), text);
  }

  async read(ref: string): Promise<string | undefined> {
    const text = (await readTextIfExists(join(this.patchDir, ref)))?.trim();
    if (text === undefined) return undefined;
    if (!isObjectId(text)) throw new PatchworkError('CORRUPT_INDEX', `Ref ${ref} is damaged (it does not hold a commit id).`);
    return text;
  }

  async write(ref: string, id: string): Promise<void> {
    if (!isObjectId(id)) throw new PatchworkError('INTERNAL', `Refusing to write "${id}" to ${ref}.`);
    const path = join(this.patchDir, ref);
    try {
      await fsp.mkdir(dirname(path), { recursive: true });
    } catch (e) {
      if (errnoCode(e) === 'EEXIST' || errnoCode(e) === 'ENOTDIR') throw refConflict(ref);
      throw e;
    }
    try {
      await atomicWrite(path, `${id}\n`);
    } catch (e) {
      if (errnoCode(e) === 'EISDIR' || errnoCode(e) === 'ENOTDIR') throw refConflict(ref);
      throw e;
    }
  }

  async delete(ref: string): Promise<void> {
    await fsp.rm(join(this.patchDir, ref), { force: true });
    // Remove now-empty parent folders of nested names (feature/x), but never refs/heads itself.
    let dir = dirname(join(this.patchDir, ref));
    const stop = join(this.patchDir, ref.split('/').slice(0, 2).join('/'));
    while (dir.length > stop.length) {
      try {
        await fsp.rmdir(dir);
      } catch {
        break;
      }
      dir = dirname(dir);
    }
  }

  /** All refs below a prefix such as `refs/heads/`, sorted by name (name is relative to the prefix). */
  async list(prefix: string): Promise<{ name: string; id: string }[]> {
    const out: { name: string; id: string }[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries;
      try {
        entries = await fsp.readdir(join(this.patchDir, prefix, rel), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const name = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(name);
        else if (e.isFile() && !e.name.startsWith('.')) {
          const id = await this.read(prefix + name);
          if (id) out.push({ name, id });
        }
      }
    };
    await walk('');
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

function refConflict(ref: string): PatchworkError {
  return new PatchworkError('BRANCH_EXISTS', `Cannot create ${ref}: a ref with a conflicting name (a parent or child folder) exists.`);
}
