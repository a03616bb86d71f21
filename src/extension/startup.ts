/**
 * The start-up timeline: milestones of the path from `activate()` returning to each repository's
 * peer listening (workspace scan, loading out/peer.js, starting each node), as milliseconds counted
 * from `activate()` returning. The log reports "peer listening N ms after activate"; the test API
 * returns the whole list so the integration tests can print it.
 */
export interface StartupMark {
  readonly name: string;
  /** Milliseconds after `activate()` returned (negative: before it returned). */
  readonly ms: number;
}

export class StartupTimeline {
  private origin: number | undefined;
  private readonly marks: { name: string; at: number }[] = [];

  /** `performance.now()` when `activate()` returned; marks are counted from it. */
  setOrigin(at: number): void {
    this.origin = at;
  }

  /** Record a milestone (at most 200; the first ones are what this is for). Returns its time. */
  mark(name: string, at = performance.now()): number {
    if (this.marks.length < 200) this.marks.push({ name, at });
    return this.since(at);
  }

  /** Record a milestone unless one of that name exists; returns its time when it was recorded now. */
  markOnce(name: string, at = performance.now()): number | undefined {
    return this.marks.some((m) => m.name === name) ? undefined : this.mark(name, at);
  }

  /** Milliseconds from `activate()` returning to `at`. */
  since(at: number): number {
    return at - (this.origin ?? at);
  }

  list(): StartupMark[] {
    return this.marks.map((m) => ({ name: m.name, ms: Math.round(this.since(m.at) * 10) / 10 }));
  }
}
