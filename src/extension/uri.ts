/**
 * `patchwork:` URIs name a file's content at a ref: `HEAD` (or any revision the engine resolves)
 * or `~` for the staging area. The path stays the file's own path (so editors pick the right
 * language and icon); the query carries `{ path, ref }` like the Git extension's `git:` URIs.
 */
import * as vscode from 'vscode';

export const SCHEME = 'patchwork';
/** The staging area (`~` cannot be a branch or tag name, so it never collides with a revision). */
export const INDEX_REF = '~';

export interface PatchworkUriParams {
  /** Absolute file-system path of the file in the work tree. */
  path: string;
  ref: string;
}

export function toPatchworkUri(file: vscode.Uri, ref: string): vscode.Uri {
  const params: PatchworkUriParams = { path: file.fsPath, ref };
  return file.with({ scheme: SCHEME, query: JSON.stringify(params) });
}

export function fromPatchworkUri(uri: vscode.Uri): PatchworkUriParams {
  const parsed = JSON.parse(uri.query) as Partial<PatchworkUriParams>;
  if (typeof parsed.path !== 'string' || typeof parsed.ref !== 'string') throw new Error(`Not a Patchwork URI: ${uri.toString()}`);
  return { path: parsed.path, ref: parsed.ref };
}
