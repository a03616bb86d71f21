/**
 * Words and letters the views derive from a status snapshot (pure: the node tests check them).
 */
import type { StatusSnapshot } from './status';

export type ResourceGroupId = 'merge' | 'index' | 'workingTree';
export type ResourceKind = 'index-added' | 'index-modified' | 'index-deleted' | 'modified' | 'deleted' | 'untracked' | 'conflict';

export interface KindInfo {
  readonly letter: 'A' | 'M' | 'D' | 'U' | 'C';
  readonly tooltip: string;
  /** Theme colour id contributed in package.json (defaults as the Git extension's). */
  readonly color: string;
  readonly strikeThrough: boolean;
}

export const KIND_INFO: Readonly<Record<ResourceKind, KindInfo>> = {
  'index-added': { letter: 'A', tooltip: 'Index Added', color: 'patchworkDecoration.addedResourceForeground', strikeThrough: false },
  'index-modified': { letter: 'M', tooltip: 'Index Modified', color: 'patchworkDecoration.stageModifiedResourceForeground', strikeThrough: false },
  'index-deleted': { letter: 'D', tooltip: 'Index Deleted', color: 'patchworkDecoration.stageDeletedResourceForeground', strikeThrough: true },
  modified: { letter: 'M', tooltip: 'Modified', color: 'patchworkDecoration.modifiedResourceForeground', strikeThrough: false },
  deleted: { letter: 'D', tooltip: 'Deleted', color: 'patchworkDecoration.deletedResourceForeground', strikeThrough: true },
  untracked: { letter: 'U', tooltip: 'Untracked', color: 'patchworkDecoration.untrackedResourceForeground', strikeThrough: false },
  conflict: { letter: 'C', tooltip: 'Conflict', color: 'patchworkDecoration.conflictingResourceForeground', strikeThrough: false },
};

export interface ResourceEntry {
  readonly group: ResourceGroupId;
  readonly path: string;
  readonly kind: ResourceKind;
  /** Longer tooltip (what kind of conflict). */
  readonly tooltip: string;
}

function conflictTooltip(c: StatusSnapshot['conflicts'][number]): string {
  if (c.ours && c.theirs) return c.base ? 'Conflict: Both Modified' : 'Conflict: Both Added';
  if (c.ours) return 'Conflict: Deleted by Them';
  if (c.theirs) return 'Conflict: Deleted by Us';
  return 'Conflict';
}

/** The three groups' entries, in path order. */
export function resourceEntries(s: StatusSnapshot): Record<ResourceGroupId, ResourceEntry[]> {
  const entry = (group: ResourceGroupId, path: string, kind: ResourceKind, tooltip = KIND_INFO[kind].tooltip): ResourceEntry => ({ group, path, kind, tooltip });
  const stagedKind = { added: 'index-added', modified: 'index-modified', deleted: 'index-deleted' } as const;
  return {
    merge: s.conflicts.map((c) => entry('merge', c.path, 'conflict', conflictTooltip(c))),
    index: s.staged.map((c) => entry('index', c.path, stagedKind[c.kind])),
    workingTree: [...s.unstaged.map((c) => entry('workingTree', c.path, c.kind)), ...s.untracked.map((p) => entry('workingTree', p, 'untracked'))].sort((a, b) =>
      a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
    ),
  };
}

/** The one letter the Explorer shows for a path that may be in several groups. */
export function explorerKinds(s: StatusSnapshot): Map<string, ResourceKind> {
  const rank: Record<ResourceKind, number> = { conflict: 7, untracked: 6, 'index-added': 5, deleted: 4, modified: 3, 'index-modified': 2, 'index-deleted': 1 };
  const out = new Map<string, ResourceKind>();
  const groups = resourceEntries(s);
  for (const e of [...groups.merge, ...groups.index, ...groups.workingTree]) {
    const cur = out.get(e.path);
    if (!cur || rank[e.kind] > rank[cur]) out.set(e.path, e.kind);
  }
  return out;
}

/** What the branch item and the input box call HEAD. */
export function headName(s: StatusSnapshot): { icon: 'git-branch' | 'tag' | 'git-commit'; name: string } {
  if (s.head.kind === 'branch') return { icon: 'git-branch', name: s.head.branch };
  if (s.headTags.length) return { icon: 'tag', name: s.headTags[0] };
  return { icon: 'git-commit', name: s.head.id.slice(0, 8) };
}

/** Branch status bar text, as Git writes it: `*` unstaged changes, `+` staged, `!` conflicts. */
export function branchTitle(s: StatusSnapshot): string {
  const { icon, name } = headName(s);
  const marks = `${s.unstaged.length || s.untracked.length ? '*' : ''}${s.staged.length ? '+' : ''}${s.conflicts.length ? '!' : ''}`;
  const op = s.operation ? ` (${s.operation.kind === 'merge' ? 'Merging' : s.operation.kind === 'cherry-pick' ? 'Cherry-picking' : 'Reverting'})` : '';
  return `$(${s.operation?.kind === 'merge' ? 'git-merge' : icon}) ${name}${marks}${op}`;
}

export function commitPlaceholder(s: StatusSnapshot, platform: NodeJS.Platform = process.platform): string {
  const key = platform === 'darwin' ? '⌘Enter' : 'Ctrl+Enter';
  return `Message (${key} to commit on '${headName(s).name}')`;
}

/** The number on the Source Control icon for `patchwork.countBadge`. */
export function badgeCount(s: StatusSnapshot, mode: 'all' | 'tracked' | 'off'): number {
  if (mode === 'off') return 0;
  const tracked = s.conflicts.length + s.staged.length + s.unstaged.length;
  return mode === 'all' ? tracked + s.untracked.length : tracked;
}
