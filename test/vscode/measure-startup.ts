// How soon after `activate()` returns the extension's peers listen, in the real VS Code build.
//
//   node esbuild.mjs --tests && node out/tests/vscode/measure-startup.js [--runs 5] [--big 0|3000] [--new-identities] [--data-dir D]
//
// Each run starts VS Code (server + headless chromium, test/vscode/harness.ts) on a fresh copy of
// the multi-root fixture (alpha and beta, small repositories; with --big N also `big`, a repository
// of N files whose first status walk runs while the peers start; each has a peer identity already,
// as a repository whose peer has run before, unless --new-identities), runs activation.itest.ts alone
// and reads what it prints: activate()'s duration, the start-up timeline (test API
// startupTimeline()) and when each peer listened. The runs share VS Code's user and server data, as
// a user's restarts do: run 1 is a first start (no code cache of the peer module yet), the others
// are later starts. Prints every run and the medians of runs 2 and later. It measures; it asserts
// nothing about the figures (a shared machine makes them noisy: compare medians, note `uptime`).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { mustCli } from './cliPeer';
import { multiRootFixture } from './fixture';
import { prerequisiteProblem, projectRoot, runVSCodeTests } from './harness';

interface Run {
  /** Run 1: VS Code's data folders were new (no code cache yet). */
  first: boolean;
  activateMs: number;
  /** Milestone name (repository roots shortened to their folder name) -> ms after activate() returned. */
  marks: Map<string, number>;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} takes a whole number`);
  return v;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The timeline line activation.itest.ts prints: "[measure] start-up timeline (…): 0 peer module loading; 97 repository found: alpha; …". */
export function parseTimeline(log: string): Map<string, number> | undefined {
  const line = log.split('\n').find((l) => l.includes('[measure] start-up timeline'));
  if (!line) return undefined;
  const marks = new Map<string, number>();
  for (const part of line.slice(line.indexOf('):') + 2).split(';')) {
    const m = /^\s*(-?\d+(?:\.\d+)?) (.+?)\s*$/.exec(part);
    if (m) marks.set(m[2]!.replace(/ \(\d+ ms\)$/, ''), Number(m[1]));
  }
  return marks;
}

/** Builds without the timeline print only "… online 1376, 1376 ms after activate() returned" (alpha, beta). */
function parseListening(log: string): Map<string, number> | undefined {
  const m = /(?:online|peer listening) ([\d, ]+) ms after activate\(\) returned/.exec(log);
  if (!m) return undefined;
  const [alpha, beta] = m[1]!.split(',').map((x) => Number(x.trim()));
  return new Map([
    ['peer listening: alpha', alpha!],
    ['peer listening: beta', beta!],
  ]);
}

async function main(): Promise<void> {
  const runs = arg('runs', 5);
  const big = arg('big', 0);
  const newIdentities = process.argv.includes('--new-identities');
  const problem = prerequisiteProblem();
  if (problem) throw new Error(problem);
  const suite = join(projectRoot, 'out', 'tests', 'vscode', 'suite.js');
  // --data-dir D: VS Code's data folders in D, kept (so separate invocations share them: A/B runs).
  const given = process.argv.indexOf('--data-dir');
  const keepData = given >= 0 ? process.argv[given + 1] : undefined;
  if (given >= 0 && !keepData) throw new Error('--data-dir takes a folder');
  const dataDir = keepData ?? mkdtempSync(join(tmpdir(), 'patchwork-measure-'));
  const results: Run[] = [];
  console.log(`${runs} run(s), workspace alpha + beta${big ? ` + big (${big} files)` : ''}${newIdentities ? ', repositories without a peer identity yet' : ''}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  try {
    for (let i = 0; i < runs; i++) {
      const fixture = await multiRootFixture({ bigFiles: big });
      try {
        // Repositories whose peer has run before have an identity; a first start creates one (with fsyncs).
        if (!newIdentities) for (const name of big ? ['alpha', 'beta', 'big'] : ['alpha', 'beta']) mustCli(join(fixture.dir, name), 'id');
        const r = await runVSCodeTests({ workspace: fixture.workspaceFile, suite, dataDir, timeoutMs: 120_000, env: { PATCHWORK_ITESTS: 'activation.itest.ts' } });
        const marks = parseTimeline(r.log) ?? parseListening(r.log);
        const activate = /\[measure\] activate\(\) took ([\d.]+) ms/.exec(r.log);
        if (r.exitCode !== 0 || !marks || !activate) {
          console.log(`run ${i + 1}: failed (exit code ${r.exitCode})\n${r.log}\n${r.diagnostics}`);
          process.exitCode = 1;
          continue;
        }
        results.push({ first: i === 0 && !keepData, activateMs: Number(activate[1]), marks });
        console.log(`run ${i + 1}: ${[...marks].map(([k, v]) => `${v.toFixed(0)} ${k}`).join('; ')}`);
      } finally {
        rmSync(fixture.dir, { recursive: true, force: true });
      }
    }
  } finally {
    if (!keepData) rmSync(dataDir, { recursive: true, force: true });
  }
  const later = results.filter((r) => !r.first);
  const summarized = later.length ? later : results;
  if (!summarized.length) return;
  const names = [...new Set(summarized.flatMap((r) => [...r.marks.keys()]))];
  console.log(`\nmedians of ${later.length ? `runs 2-${runs} (later starts)` : 'run 1'}, ms after activate() returned (activate() itself: ${median(summarized.map((r) => r.activateMs)).toFixed(1)} ms):`);
  const rows = names
    .map((n) => ({ n, values: summarized.map((r) => r.marks.get(n)).filter((v): v is number => v !== undefined) }))
    .map((x) => ({ ...x, med: median(x.values) }))
    .sort((a, b) => a.med - b.med);
  for (const x of rows) console.log(`${x.med.toFixed(0).padStart(6)}  ${x.n}  (${x.values.map((v) => v.toFixed(0)).join(', ')})`);
  const allListening = (r: Run) => Math.max(...[...r.marks].filter(([k]) => k.startsWith('peer listening:')).map(([, v]) => v));
  const first = results.find((r) => r.first);
  if (first) console.log(`\nfirst start (run 1): all peers listening ${allListening(first).toFixed(0)} ms after activate()`);
  if (later.length) console.log(`later starts: all peers listening, median ${median(later.map(allListening)).toFixed(0)} ms after activate() (runs: ${later.map((r) => allListening(r).toFixed(0)).join(', ')})`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
