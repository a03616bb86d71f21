/**
 * Peer-to-peer commands: Clone from Peer, Fetch, Pull, Push, Sync, Pull from / Push to one
 * collaborator, Invite / Add / Remove Collaborator, Start / Stop Peer, Refresh Collaborators.
 * Arguments: a repository (SourceControl, URI; the status bar passes the root URI), a node of the
 * Collaborators view, or nothing (palette: the only repository, or a pick).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { PatchworkError } from '../../engine';
import { isCollaboratorNode } from '../collaboratorsView';
import { ShellError, errorText } from '../errors';
import { adoptError, hostCall } from '../peerHost';
import type { Peers } from '../peers';
import type { CollaboratorStatus, RepositorySync } from '../sync';
import { humanBytes, plural, shortPeer, type Report } from '../syncLabels';
import { CommandContext, register, repositoryFor } from './context';

const INVITE_MS = 3600_000;

export function registerPeerCommands(ctx: CommandContext, peers: Peers): vscode.Disposable[] {
  /** The repository's sync model a command is about. */
  const syncFor = async (arg: unknown): Promise<RepositorySync | undefined> => {
    if (isCollaboratorNode(arg)) return arg.sync;
    const repo = await repositoryFor(ctx, arg);
    return repo && peers.syncOf(repo);
  };

  /** A collaborator: the view's row, else a pick among the repository's collaborators. */
  const collaboratorFor = async (arg: unknown, placeHolder: string): Promise<{ sync: RepositorySync; c: CollaboratorStatus } | undefined> => {
    if (isCollaboratorNode(arg) && arg.kind === 'collaborator') {
      const c = arg.sync.collaborator(arg.peerId);
      return c && { sync: arg.sync, c };
    }
    const sync = await syncFor(arg);
    if (!sync) return undefined;
    const list = await collaboratorsOf(sync);
    const pick = await ctx.ui.pick(
      list.map((c) => ({ label: c.name, description: `${shortPeer(c.peerId)} · ${c.role}`, c })),
      { placeHolder },
    );
    return pick && { sync, c: pick.c };
  };

  const collaboratorsOf = async (sync: RepositorySync): Promise<readonly CollaboratorStatus[]> => {
    if (!peers.host.current) await sync.start();
    if (sync.problem) throw new PatchworkError('INVALID_CONFIG', sync.problem);
    if (!sync.collaborators.length) {
      void ctx.ui.message('info', 'This repository has no collaborators yet: invite someone with a one-time ticket, or add a peer you know.', {}, 'Invite Collaborator', 'Add Collaborator').then((a) => {
        if (a === 'Invite Collaborator') void vscode.commands.executeCommand('patchwork.invite', sync.repo.rootUri);
        if (a === 'Add Collaborator') void vscode.commands.executeCommand('patchwork.addCollaborator', sync.repo.rootUri);
      });
      throw new ShellError('', 'info'); // already told
    }
    return sync.collaborators;
  };

  /** Show what a transfer did: a notification when it needs attention, else the status bar. */
  const present = (what: string, report: Report): void => {
    ctx.log.info(`${what}: ${report.text}`);
    if (report.severity === 'error') {
      void ctx.ui.message('error', report.text, {}, 'Show Log').then((a) => a === 'Show Log' && ctx.log.show());
    } else if (report.severity) {
      void ctx.ui.message(report.severity, report.text);
    } else if (report.text) {
      vscode.window.setStatusBarMessage(`$(check) ${report.text}`, 5000);
    }
  };

  const transfer = (kind: 'pull' | 'push') => async (arg: unknown) => {
    const sync = await syncFor(arg);
    if (!sync) return undefined;
    await collaboratorsOf(sync);
    const r = kind === 'pull' ? await sync.pull() : await sync.push();
    present(kind === 'pull' ? 'Pull' : 'Push', r.report);
    return r.report;
  };

  const transferOne = (kind: 'pull' | 'push') => async (arg: unknown) => {
    const x = await collaboratorFor(arg, kind === 'pull' ? 'Pull from which collaborator?' : 'Push to which collaborator?');
    if (!x) return undefined;
    const r = kind === 'pull' ? await x.sync.pull([x.c.peerId]) : await x.sync.push([x.c.peerId]);
    present(kind === 'pull' ? `Pull from ${x.c.name}` : `Push to ${x.c.name}`, r.report);
    return r.report;
  };

  const wrap = (fn: (arg: unknown) => Promise<unknown>) => async (arg?: unknown) => {
    try {
      return await fn(arg);
    } catch (e) {
      if (e instanceof ShellError && !e.message) return undefined; // already told the user
      throw adoptError(e);
    }
  };

  return [
    register(ctx, 'patchwork.fetch', 'Fetch', wrap(async (arg) => {
      const sync = await syncFor(arg);
      if (!sync) return undefined;
      await collaboratorsOf(sync);
      const list = await sync.fetch();
      const got = list.filter((o) => o.ok).reduce((n, o) => n + (o.ok ? o.result.commits : 0), 0);
      const offline = list.filter((o) => !o.ok).map((o) => o.name);
      present('Fetch', {
        severity: list.every((o) => !o.ok) ? 'warning' : undefined,
        text: list.every((o) => !o.ok) ? `No collaborator answered: ${offline.join(', ')}.` : `Fetched ${plural(got, 'new commit')}${offline.length ? `; ${offline.join(', ')} offline` : ''}.`,
        stop: false,
      });
      return list;
    })),
    register(ctx, 'patchwork.pull', 'Pull', wrap(transfer('pull'))),
    register(ctx, 'patchwork.push', 'Push', wrap(transfer('push'))),
    register(ctx, 'patchwork.pullFrom', 'Pull', wrap(transferOne('pull'))),
    register(ctx, 'patchwork.pushTo', 'Push', wrap(transferOne('push'))),
    register(ctx, 'patchwork.sync', 'Sync', wrap(async (arg) => {
      const sync = await syncFor(arg);
      if (!sync) return undefined;
      await collaboratorsOf(sync);
      const r = await sync.sync();
      if (r.pull.stop || !r.push) present('Sync (pull)', r.pull);
      else if (r.push.severity || r.pull.severity) present('Sync', r.push.severity ? r.push : r.pull);
      else present('Sync', { severity: undefined, text: `${r.pull.text} ${r.push.text}`.trim(), stop: false });
      return r;
    })),

    register(ctx, 'patchwork.invite', 'Invite Collaborator', wrap(async (arg) => {
      const sync = await syncFor(arg);
      if (!sync) return undefined;
      const host = await peers.host.load();
      const role = await ctx.ui.pick(
        [
          { label: 'Writer', description: 'may clone, pull and push', role: 'writer' as const },
          { label: 'Reader', description: 'may clone and pull', role: 'reader' as const },
        ],
        { placeHolder: 'What may the new collaborator do? (the ticket works once and expires in 1 hour)' },
      );
      if (!role) return undefined;
      if (!sync.peer.state || sync.peer.state.kind === 'stopped' || sync.peer.state.kind === 'starting') await sync.start();
      const addresses = await sync.peer.addresses();
      if (!addresses.length) {
        throw new PatchworkError(
          'P2P',
          `No address to put in the ticket: this repository's peer is not running${sync.peer.state.kind === 'failed' ? ` (${sync.peer.state.reason})` : ''}.`,
          'Start it ("Patchwork: Start Peer"): the invited peer clones from it.',
        );
      }
      const invite = await hostCall(host.createInvite(sync.repo.root, { role: role.role, expiresInMs: INVITE_MS, addresses }));
      let copied = true;
      await Promise.resolve(vscode.env.clipboard.writeText(invite.ticket)).catch((e: unknown) => {
        copied = false;
        ctx.log.warn(`Copying the ticket to the clipboard: ${errorText(e)}`);
      });
      const local = invite.addresses.every((a) => /^\/ip4\/127\.|^\/ip6\/::1\//.test(a));
      const where = local
        ? ' It has only 127.0.0.1 addresses, so it works on this machine only: to invite someone on another machine set patchwork.peer.listenAddress to 0.0.0.0 (or this machine\'s LAN or VPN address) first.'
        : '';
      ctx.log.info(`Invite ${invite.id} for one ${invite.role}, valid until ${invite.expires}, addresses ${invite.addresses.join(', ')}`);
      if (copied) {
        void ctx.ui.message('info', `Invite ticket for one ${invite.role} copied to the clipboard. Send it privately: it works once and expires in 1 hour. They run "Patchwork: Clone from Peer" (or \`patchwork clone <ticket>\`).${where}`);
      } else {
        await ctx.ui.input({ prompt: `Copy this invite ticket for one ${invite.role} (works once, expires in 1 hour).${where}`, value: invite.ticket });
      }
      return invite;
    })),

    register(ctx, 'patchwork.addCollaborator', 'Add Collaborator', wrap(async (arg) => {
      const sync = await syncFor(arg);
      if (!sync) return undefined;
      const host = await peers.host.load();
      const who = await ctx.ui.input({
        prompt: 'Peer id of the new collaborator (`patchwork id` prints it), or its full address',
        placeHolder: '12D3KooW…  or  /ip4/192.168.1.20/tcp/4100/p2p/12D3KooW…',
        ignoreFocusOut: true,
        validate: (v) => host.peerProblem(v),
      });
      if (!who) return undefined;
      const peerId = (await host.peerIdOf(who))!;
      const existing = sync.collaborators.find((c) => c.peerId === peerId);
      const name = await ctx.ui.input({
        prompt: 'Name to show for this collaborator',
        value: existing?.name,
        ignoreFocusOut: true,
        validate: (v) => nameProblem(v.trim(), sync.collaborators.filter((c) => c.peerId !== peerId).map((c) => c.name)),
      });
      if (!name) return undefined;
      const role = await ctx.ui.pick(
        [
          { label: 'Writer', description: 'may pull and push', role: 'writer' as const },
          { label: 'Reader', description: 'may pull', role: 'reader' as const },
        ],
        { placeHolder: `What may ${name.trim()} do?` },
      );
      if (!role) return undefined;
      let addresses = who.trim().startsWith('/') ? [who.trim()] : [];
      if (!addresses.length) {
        const address = await ctx.ui.input({
          prompt: `Where can ${name.trim()} be reached? (optional: leave empty if they will connect to you)`,
          placeHolder: '/ip4/192.168.1.20/tcp/4100',
          ignoreFocusOut: true,
          validate: (v) => host.addressProblem(v, peerId),
        });
        if (address === undefined) return undefined;
        if (address.trim()) addresses = [address.trim()];
      }
      const r = await hostCall(host.addCollaborator(sync.repo.root, { peerId, name: name.trim(), role: role.role, addresses }));
      await sync.peer.reloadAccess();
      await sync.reload();
      void sync.probe(true);
      vscode.window.setStatusBarMessage(`$(check) ${r.updated ? 'Updated' : 'Added'} ${r.collaborator.name} as a ${r.collaborator.role}`, 5000);
      return r.collaborator;
    })),

    register(ctx, 'patchwork.removeCollaborator', 'Remove Collaborator', wrap(async (arg) => {
      const x = await collaboratorFor(arg, 'Remove which collaborator?');
      if (!x) return undefined;
      const ok = await ctx.ui.confirm(
        `Remove ${x.c.name} (${shortPeer(x.c.peerId)}) from the collaborators of this repository?`,
        'Remove',
        'They can no longer pull from or push to this copy; the running peer closes their connections. Commits already fetched from them stay.',
      );
      if (!ok) return undefined;
      const host = await peers.host.load();
      const removed = await hostCall(host.removeCollaborator(x.sync.repo.root, x.c.peerId));
      await x.sync.peer.reloadAccess();
      await x.sync.reload();
      vscode.window.setStatusBarMessage(`$(check) Removed ${removed.name}`, 5000);
      return removed;
    })),

    register(ctx, 'patchwork.clone', 'Clone from Peer', wrap(async (arg) => {
      const host = await peers.host.load();
      const ticket =
        typeof arg === 'string'
          ? arg
          : await ctx.ui.input({
              prompt: 'Invite ticket (from "Patchwork: Invite Collaborator" or `patchwork invite` on the other machine)',
              placeHolder: 'pwt1.…',
              ignoreFocusOut: true,
              validate: async (v) => {
                try {
                  await host.readTicket(v);
                  return undefined;
                } catch (e) {
                  return errorText(adoptError(e));
                }
              },
            });
      if (!ticket) return undefined;
      const info = await hostCall(() => host.readTicket(ticket));
      const name = info.repoName || 'clone';
      const parent = await ctx.ui.folder({ title: `Choose a folder to clone "${name}" into`, openLabel: 'Select as Repository Destination' });
      if (!parent) return undefined;
      let dest = join(parent.fsPath, name);
      for (let i = 2; existsSync(dest) && readdirSync(dest).length; i++) dest = join(parent.fsPath, `${name}-${i}`);
      ctx.log.info(`Clone from Peer: "${name}" from ${info.peerId} into ${dest}`);
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Patchwork: Cloning "${name}"`, cancellable: true },
        async (progress, token) => {
          const ac = new AbortController();
          const sub = token.onCancellationRequested(() => ac.abort(new Error('cancelled')));
          let last = 0;
          try {
            return await hostCall(
              host.clone(ticket, {
                dir: dest,
                logger: { debug: (m) => ctx.log.debug(m), info: (m) => ctx.log.info(m), warn: (m) => ctx.log.warn(m), error: (m) => ctx.log.error(m) },
                signal: ac.signal,
                onProgress: (p) => {
                  if (Date.now() - last < 100 && p.phase !== 'done') return;
                  last = Date.now();
                  progress.report({ message: `${p.phase}${p.objects ? ` ${plural(p.objects, 'object')}, ${humanBytes(p.bytes)}` : ''}` });
                },
              }),
            );
          } finally {
            sub.dispose();
          }
        },
      );
      ctx.log.info(`Cloned "${result.repositoryName}" from ${result.ownerName} into ${result.root}: ${result.commits} commits, ${result.objects} objects (${result.bytes} bytes) in ${result.ms} ms`);
      const uri = vscode.Uri.file(result.root);
      const actions = vscode.workspace.workspaceFolders?.length ? ['Open', 'Open in New Window', 'Add to Workspace'] : ['Open', 'Open in New Window'];
      const answer = await ctx.ui.message(
        'info',
        `Cloned "${result.repositoryName}" from ${result.ownerName} (${plural(result.commits, 'commit')}); you are a ${result.role}. Would you like to open the cloned repository?`,
        {},
        ...actions,
      );
      if (answer === 'Open') void vscode.commands.executeCommand('vscode.openFolder', uri);
      else if (answer === 'Open in New Window') void vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: true });
      else if (answer === 'Add to Workspace') vscode.workspace.updateWorkspaceFolders(vscode.workspace.workspaceFolders?.length ?? 0, 0, { uri });
      return result;
    })),

    register(ctx, 'patchwork.startPeer', 'Start Peer', wrap(async (arg) => {
      const sync = await syncFor(arg);
      if (!sync) return undefined;
      await peers.start();
      await sync.start();
      await sync.peer.start({ evenIfOff: true });
      const s = sync.peer.state;
      if (s.kind === 'failed') throw new ShellError(`The peer did not start: ${s.reason}`, 'error');
      if (s.kind === 'external') void ctx.ui.message('info', `This repository's peer already runs in process ${s.pid} (${s.owner === 'vscode' ? 'another VS Code window' : '`patchwork start`'}); VS Code uses it.`);
      return s;
    })),
    register(ctx, 'patchwork.stopPeer', 'Stop Peer', wrap(async (arg) => {
      const sync = await syncFor(arg);
      if (!sync) return undefined;
      await sync.peer.stop('stopped with "Patchwork: Stop Peer"');
      return sync.peer.state;
    }), { write: false }),
    register(ctx, 'patchwork.refreshCollaborators', 'Refresh Collaborators', wrap(async (arg) => {
      const one = arg === undefined ? undefined : await syncFor(arg);
      await peers.start();
      await Promise.all(
        (one ? [one] : peers.all).map(async (s) => {
          await s.reload();
          await s.probe(true);
          await s.recount();
        }),
      );
    }), { write: false }),
  ];
}

function nameProblem(name: string, taken: string[]): string | undefined {
  if (!name) return 'Enter a name.';
  if (name.length > 64) return 'At most 64 characters.';
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'No control characters.';
  if (taken.includes(name)) return `Another collaborator is already called "${name}".`;
  return undefined;
}
