/**
 * Access decisions for a serving peer, on the AUTHENTICATED remote peer id only.
 *
 * The connection gate must answer synchronously, so the collaborator list and the invite list are
 * cached and re-read (synchronously, cheaply) whenever their files' stat changes: every decision sees
 * the files as they are now, even when another process (`patchwork collaborators remove`,
 * `patchwork invite`) changed them a millisecond ago and no file-watch event has arrived yet.
 * A configuration that cannot be read admits nobody (fail closed) until it is fixed.
 */
import { readFileSync } from 'node:fs';
import { Repository } from '../engine/index.js';
import { fileStamp, readCollaboratorsSync, type Collaborator } from './collaborators.js';
import { invitesPath, type InviteRecord } from './invites.js';

export class AccessControl {
  private configStamp = '\0';
  private invitesStamp = '\0';
  private byId = new Map<string, Collaborator>();
  private invites: InviteRecord[] = [];
  /** Everyone who was a collaborator at any point while this object existed. */
  private readonly ever = new Set<string>();
  /** Why the configuration could not be read, while it cannot. */
  problem: string | undefined;

  constructor(readonly repo: Repository) {
    this.refresh();
  }

  /** Re-read whatever changed on disk; true when the collaborator list changed. */
  refresh(): boolean {
    let changed = false;
    const cs = fileStamp(this.repo.configPath);
    if (cs !== this.configStamp) {
      this.configStamp = cs;
      const before = this.signature();
      try {
        this.byId = new Map(readCollaboratorsSync(this.repo.configPath).map((c) => [c.peerId, c]));
        for (const id of this.byId.keys()) this.ever.add(id);
        this.problem = undefined;
      } catch (e) {
        this.byId = new Map();
        this.problem = e instanceof Error ? e.message : String(e);
      }
      changed = this.signature() !== before;
    }
    const is = fileStamp(invitesPath(this.repo));
    if (is !== this.invitesStamp) {
      this.invitesStamp = is;
      try {
        const doc = JSON.parse(readFileSync(invitesPath(this.repo), 'utf8')) as { invites?: InviteRecord[] };
        this.invites = Array.isArray(doc.invites) ? doc.invites : [];
      } catch {
        this.invites = [];
      }
    }
    return changed;
  }

  private signature(): string {
    return [...this.byId.values()].map((c) => `${c.peerId}:${c.role}`).sort().join(',');
  }

  collaborators(): Collaborator[] {
    this.refresh();
    return [...this.byId.values()];
  }

  collaborator(peerId: string): Collaborator | undefined {
    this.refresh();
    return this.byId.get(peerId);
  }

  /** Was this peer a collaborator at some point (it may have been removed since)? */
  wasCollaborator(peerId: string): boolean {
    this.refresh();
    return this.ever.has(peerId);
  }

  canFetch(peerId: string): boolean {
    return this.collaborator(peerId) !== undefined;
  }

  canPush(peerId: string): boolean {
    return this.collaborator(peerId)?.role === 'writer';
  }

  /** Is any invite unused and unexpired? (Then unknown peers may reach the clone handler.) */
  invitesOutstanding(now = Date.now()): boolean {
    this.refresh();
    return this.invites.some((r) => !r.usedBy && typeof r.expires === 'string' && Date.parse(r.expires) > now);
  }

  /** The connection gate: collaborators, and anyone while an invite is outstanding (the clone handler checks the secret). */
  gate(peerId: string): boolean {
    return this.canFetch(peerId) || this.invitesOutstanding();
  }
}
