// What every measuring child process shares: it runs one operation named on the command line, times
// it in-process (the tool's own work, not Node's start-up), and prints one JSON line with the times and
// its own peak RSS, which is the whole process's: worker threads included.
export interface ChildResult {
  /** Milliseconds, one figure per measured repetition. */
  ms: number[];
  /** Anything the parent checks (counts, ids) so a tool that did less work cannot look fast. */
  info?: Record<string, unknown>;
}

export type ChildOp = (args: Record<string, unknown>) => Promise<ChildResult>;

export const RESULT_PREFIX = '@@bench ';
/** tool-p2p.js serve: the line with the owner's peer id, addresses and invite tickets. */
export const SERVE_PREFIX = '@@serve ';

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** Give the event loop a moment (pending GC tasks run, as they would between a user's actions). */
export function idle(ms = 250): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function str(args: Record<string, unknown>, key: string): string {
  const v = args[key];
  if (typeof v !== 'string') throw new Error(`argument ${key} missing`);
  return v;
}

export function strings(args: Record<string, unknown>, key: string): string[] {
  const v = args[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`argument ${key} missing`);
  return v as string[];
}

/** `node out/bench/<tool>.js <op> '<json args>'` */
export function runChild(ops: Record<string, ChildOp>): void {
  const [op, json] = process.argv.slice(2);
  const fn = op ? ops[op] : undefined;
  if (!fn) {
    console.error(`usage: ${process.argv[1]} <${Object.keys(ops).join('|')}> '<json>'`);
    process.exit(2);
  }
  fn(JSON.parse(json ?? '{}') as Record<string, unknown>).then(
    (r) => {
      process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ ...r, rssKb: process.resourceUsage().maxRSS })}\n`);
      process.exit(0);
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}

/** The same signature for every tool and every commit, so histories are reproducible. */
export const AUTHOR = { name: 'Bench Mark', email: 'bench@example.invalid' };
export const EPOCH = 1_700_000_000;
