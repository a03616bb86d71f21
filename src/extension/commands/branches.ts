/** Checkout To…, Create Branch, Delete Branch, Merge Branch…, Abort Merge. */
import * as vscode from 'vscode';
import {
  Repository,
  checkout,
  deleteBranch,
  isPatchworkError,
  listBranches,
  listTags,
  merge,
  mergeAbort,
  refNameProblem,
  summaryLine,
  walkLog,
} from '../../engine';
import type { PatchworkRepository } from '../repository';
import { CommandContext, notify, register, repositoryFor } from './context';

const RECENT_COMMITS = 10;

interface RefItem extends vscode.QuickPickItem {
  /** What to pass to the engine: a branch or tag name, or a commit id; undefined for actions and separators. */
  ref?: string;
  action?: 'create' | 'createFrom';
}

const separator = (label: string): RefItem => ({ label, kind: vscode.QuickPickItemKind.Separator });
const short = (id: string) => id.slice(0, 8);

async function describe(r: Repository, id: string): Promise<string> {
  try {
    return summaryLine((await r.readCommit(id)).message);
  } catch {
    return '';
  }
}

/** Branches, tags and (optionally) recent commits, for pickers. */
async function refItems(repo: PatchworkRepository, opts: { commits: boolean; excludeCurrent?: boolean }): Promise<RefItem[]> {
  return repo.read(async (r) => {
    const [branches, tags] = await Promise.all([listBranches(r), listTags(r)]);
    const items: RefItem[] = [];
    const b = branches.filter((x) => !(opts.excludeCurrent && x.current));
    if (b.length) items.push(separator('branches'));
    for (const x of b) {
      items.push({ label: x.name, iconPath: new vscode.ThemeIcon('git-branch'), description: `${x.current ? 'current · ' : ''}${short(x.id)} · ${await describe(r, x.id)}`, ref: x.name });
    }
    if (tags.length) items.push(separator('tags'));
    for (const t of tags) items.push({ label: t.name, iconPath: new vscode.ThemeIcon('tag'), description: `${short(t.id)} · ${await describe(r, t.id)}`, ref: t.name });
    if (opts.commits && (await r.headCommit())) {
      const commits: RefItem[] = [];
      for await (const e of walkLog(r, { limit: RECENT_COMMITS })) {
        commits.push({ label: short(e.id), iconPath: new vscode.ThemeIcon('git-commit'), description: `${summaryLine(e.commit.message)} · ${e.commit.author.name}`, ref: e.id });
      }
      if (commits.length) items.push(separator('recent commits'), ...commits);
    }
    return items;
  });
}

async function askBranchName(ctx: CommandContext, prompt = 'Branch name'): Promise<string | undefined> {
  const name = await ctx.ui.input({
    prompt,
    placeHolder: 'Please provide a new branch name',
    validate: (v) => {
      const problem = refNameProblem(v.trim());
      return problem ? `The name ${problem}.` : undefined;
    },
  });
  return name?.trim() || undefined;
}

async function createBranch(ctx: CommandContext, repo: PatchworkRepository, from?: string): Promise<void> {
  const name = await askBranchName(ctx, from ? `Branch name (from ${from.length === 64 ? short(from) : from})` : undefined);
  if (name) await repo.run('Create Branch', (r) => checkout(r, from, { newBranch: name }));
}

async function checkoutTo(ctx: CommandContext, repo: PatchworkRepository): Promise<void> {
  const items: RefItem[] = [
    { label: '$(plus) Create new branch...', action: 'create', alwaysShow: true },
    { label: '$(plus) Create new branch from...', action: 'createFrom', alwaysShow: true },
    ...(await refItems(repo, { commits: true })),
  ];
  const pick = await ctx.ui.pick(items, { placeHolder: 'Select a branch, tag or commit to checkout', matchOnDescription: true });
  if (!pick) return;
  if (pick.action === 'create') return createBranch(ctx, repo);
  if (pick.action === 'createFrom') {
    const from = await ctx.ui.pick(await refItems(repo, { commits: true }), { placeHolder: 'Select a ref to create the branch from' });
    if (from?.ref) await createBranch(ctx, repo, from.ref);
    return;
  }
  const target = pick.ref;
  if (target) await repo.run('Checkout', (r) => checkout(r, target));
}

async function removeBranch(ctx: CommandContext, repo: PatchworkRepository): Promise<void> {
  const items = (await refItems(repo, { commits: false, excludeCurrent: true })).filter((i) => i.kind !== vscode.QuickPickItemKind.Separator && !(i.iconPath instanceof vscode.ThemeIcon && i.iconPath.id === 'tag'));
  if (!items.length) {
    notify(ctx, 'info', 'There is no other branch to delete.');
    return;
  }
  const pick = await ctx.ui.pick(items, { placeHolder: 'Select a branch to delete' });
  const name = pick?.ref;
  if (!name) return;
  try {
    await repo.run('Delete Branch', (r) => deleteBranch(r, name));
  } catch (e) {
    if (!isPatchworkError(e, 'BRANCH_NOT_MERGED')) throw e;
    if (await ctx.ui.confirm(`The branch "${name}" is not fully merged. Delete anyway?`, 'Delete Branch')) {
      await repo.run('Delete Branch', (r) => deleteBranch(r, name, { force: true }));
    }
  }
}

async function mergeInto(ctx: CommandContext, repo: PatchworkRepository): Promise<void> {
  const pick = await ctx.ui.pick(await refItems(repo, { commits: false, excludeCurrent: true }), { placeHolder: 'Select a branch or tag to merge from' });
  const rev = pick?.ref;
  if (!rev) return;
  const result = await repo.run('Merge', (r) => merge(r, rev));
  switch (result.kind) {
    case 'up-to-date':
      notify(ctx, 'info', `Already up to date with ${rev}.`);
      break;
    case 'fast-forward':
      notify(ctx, 'info', `Fast-forwarded to ${rev} (${result.written.length + result.removed.length} files changed).`);
      break;
    case 'merged':
      notify(ctx, 'info', `Merged ${rev}: ${result.changed.length} file${result.changed.length === 1 ? '' : 's'} changed.`);
      break;
    case 'conflicts':
      notify(
        ctx,
        'warning',
        `Merging ${rev} stopped with conflicts in ${result.conflicts.length} file${result.conflicts.length === 1 ? '' : 's'} (see Merge Changes). Resolve and stage them, then commit; or run "Patchwork: Abort Merge".`,
      );
      break;
  }
}

export function registerBranchCommands(ctx: CommandContext): vscode.Disposable[] {
  const withRepo = (fn: (repo: PatchworkRepository) => Promise<void>) => async (arg?: unknown) => {
    const repo = await repositoryFor(ctx, arg);
    if (repo) await fn(repo);
  };
  return [
    register(ctx, 'patchwork.checkout', 'Checkout', withRepo((repo) => checkoutTo(ctx, repo))),
    register(ctx, 'patchwork.branch', 'Create Branch', withRepo((repo) => createBranch(ctx, repo))),
    register(ctx, 'patchwork.deleteBranch', 'Delete Branch', withRepo((repo) => removeBranch(ctx, repo))),
    register(ctx, 'patchwork.merge', 'Merge', withRepo((repo) => mergeInto(ctx, repo))),
    register(ctx, 'patchwork.mergeAbort', 'Abort Merge', withRepo((repo) => repo.run('Abort Merge', (r) => mergeAbort(r)).then(() => undefined))),
  ];
}
