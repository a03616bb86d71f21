// Benchmark corpora, cached under bench/.corpus/ (git-ignored):
//  - a synthetic work tree generated from a seed: N files in ~N/20 folders, log-normal sizes, mostly
//    text, a few binary files, a few files of several MiB. The same seed gives the same bytes on every
//    machine (the PRNG is integer-only; the normal variates use Math.log/cos/sqrt, which V8 computes
//    with its own fdlibm port, so they do not depend on the platform's libm);
//  - a real source tree: the files of a pinned npm package, fetched with `npm pack`.
// The deterministic edits the benchmark makes (1% of files for status, 10% for checkout) come from
// here too, so every tool sees exactly the same change.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CorpusSpec {
  name: string;
  files: number;
  dirs: number;
  /** Total size aimed at, in bytes (the result is within a few percent). */
  bytes: number;
  /** Files of several MiB (half text, half binary). */
  large: number;
  seed: number;
}

export interface CorpusFile {
  path: string;
  size: number;
  binary: boolean;
}

export interface Corpus {
  dir: string;
  files: CorpusFile[];
  bytes: number;
  dirs: number;
  description: string;
}

const MIB = 1024 * 1024;
export const FULL: CorpusSpec = { name: 'synthetic-20k', files: 20_000, dirs: 1_000, bytes: 150 * MIB, large: 6, seed: 20240601 };
export const QUICK: CorpusSpec = { name: 'synthetic-4k', files: 4_000, dirs: 200, bytes: 30 * MIB, large: 2, seed: 20240601 };
/** The real tree: rxjs 7.8.2 has 2,277 files (sources, three builds, typings, maps). Pinned so runs compare. */
export const REAL_PACKAGE = 'rxjs@7.8.2';

/** The project folder (the bundles run from out/bench/; PATCHWORK_BENCH_ROOT when built elsewhere). */
export const ROOT = process.env.PATCHWORK_BENCH_ROOT ?? join(__dirname, '..', '..');
export const CACHE = join(ROOT, 'bench', '.corpus');

/** sfc32: small, fast, integer-only, good enough statistical quality for test data. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number | string) {
    const h = createHash('sha256').update(String(seed)).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12);
    for (let i = 0; i < 16; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** [0, 1) */
  next(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n + 3);
    for (let i = 0; i < n; i += 4) b.writeUInt32LE(this.u32(), i);
    return b.subarray(0, n);
  }
}

const WORDS = (
  'const let var function return if else for while switch case break continue new this class extends ' +
  'import export from default async await yield try catch finally throw typeof instanceof interface type ' +
  'public private readonly static get set value index count result error options config buffer stream ' +
  'request response handler callback promise resolve reject length items entry path name id data state ' +
  'update render create delete read write open close parse format encode decode merge commit branch tree ' +
  'node peer store object hash status change file folder user session token event listener window frame'
).split(' ');
const TEXT_EXT = ['ts', 'ts', 'ts', 'js', 'js', 'json', 'md', 'css', 'html', 'txt'];
const BIN_EXT = ['png', 'jpg', 'woff2', 'bin', 'gz'];

/** A few MiB of code-like lines that text files are cut from (fast, and compresses like source code). */
function textPool(rng: Rng, size: number): Buffer {
  const lines: string[] = [];
  let total = 0;
  while (total < size) {
    const indent = '  '.repeat(rng.int(5));
    const n = 2 + rng.int(10);
    const words: string[] = [];
    for (let i = 0; i < n; i++) words.push(rng.int(8) === 0 ? `${rng.pick(WORDS)}${rng.int(1000)}` : rng.pick(WORDS));
    const line = indent + words.join(rng.int(3) === 0 ? '.' : ' ') + (rng.int(2) ? ';' : '') + '\n';
    lines.push(line);
    total += line.length;
  }
  return Buffer.from(lines.join(''), 'latin1');
}

function layout(spec: CorpusSpec): { files: CorpusFile[]; dirs: string[] } {
  const rng = new Rng(`${spec.seed}/layout`);
  const dirs: { path: string; depth: number }[] = [{ path: '', depth: 0 }];
  for (let i = 1; i < spec.dirs; i++) {
    let parent = rng.pick(dirs);
    while (parent.depth >= 5) parent = rng.pick(dirs);
    const name = `${rng.pick(WORDS)}-${i.toString(36)}`;
    dirs.push({ path: parent.path ? `${parent.path}/${name}` : name, depth: parent.depth + 1 });
  }
  // Log-normal sizes (median ~2 KiB, sigma 1.5), capped at 1 MiB, then scaled to the target.
  const raw: number[] = [];
  for (let i = 0; i < spec.files; i++) raw.push(Math.min(MIB, Math.exp(7.6 + 1.5 * rng.normal())));
  const largeBytes: number[] = [];
  for (let i = 0; i < spec.large; i++) largeBytes.push(Math.round((3 + rng.next() * 5) * MIB));
  const budget = spec.bytes - largeBytes.reduce((a, b) => a + b, 0);
  if (budget <= 0) throw new Error(`corpus ${spec.name}: the large files alone exceed the target size`);
  const scale = budget / raw.reduce((a, b) => a + b, 0);
  const files: CorpusFile[] = [];
  const used = new Set<string>();
  for (let i = 0; i < spec.files; i++) {
    const large = i < spec.large;
    const binary = large ? i % 2 === 1 : rng.int(100) < 3;
    const dir = rng.pick(dirs).path;
    const ext = binary ? rng.pick(BIN_EXT) : rng.pick(TEXT_EXT);
    let name = `${rng.pick(WORDS)}${i.toString(36)}.${ext}`;
    if (used.has(`${dir}/${name}`)) name = `x${name}`;
    used.add(`${dir}/${name}`);
    const size = large ? largeBytes[i]! : Math.max(1, Math.round(raw[i]! * scale));
    files.push({ path: dir ? `${dir}/${name}` : name, size, binary });
  }
  return { files, dirs: dirs.map((d) => d.path) };
}

/** Content of one file: deterministic from the seed and the path, unique per file (no dedup). */
function content(spec: CorpusSpec, f: CorpusFile, pool: Buffer, variant = 0): Buffer {
  const rng = new Rng(`${spec.seed}/${f.path}/${variant}`);
  if (f.binary) return rng.bytes(f.size);
  const head = Buffer.from(`// #${variant} ${rng.u32().toString(16)} ${f.path}\n`, 'latin1');
  const out = Buffer.alloc(f.size);
  let pos = head.copy(out, 0, 0, Math.min(head.length, f.size));
  while (pos < f.size) {
    const start = rng.int(pool.length - 1);
    pos += pool.copy(out, pos, start, Math.min(pool.length, start + (f.size - pos)));
  }
  return out;
}

export function describeSpec(spec: CorpusSpec): string {
  return `${spec.files.toLocaleString('en')} files in ${spec.dirs.toLocaleString('en')} folders, ~${Math.round(spec.bytes / MIB)} MiB, seed ${spec.seed}`;
}

/** Generate (or reuse from the cache) the synthetic corpus; returns its folder and file list. */
export function syntheticCorpus(spec: CorpusSpec, log: (s: string) => void = () => {}, cache = CACHE): Corpus {
  const dir = join(cache, spec.name);
  const marker = join(dir, '..', `${spec.name}.json`);
  const key = JSON.stringify({ ...spec, generator: 2 }); // bump when the generated bytes change
  const { files, dirs } = layout(spec);
  const bytes = files.reduce((a, f) => a + f.size, 0);
  const corpus = { dir, files, bytes, dirs: dirs.length, description: describeSpec(spec) };
  if (existsSync(marker) && readFileSync(marker, 'utf8') === key && existsSync(dir)) return corpus;
  log(`generating the ${describeSpec(spec)} corpus in ${dir} …`);
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  const pool = textPool(new Rng(`${spec.seed}/pool`), 4 * MIB);
  for (const d of dirs) mkdirSync(join(tmp, d), { recursive: true });
  for (const f of files) writeFileSync(join(tmp, f.path), content(spec, f, pool));
  renameSync(tmp, dir);
  writeFileSync(marker, key);
  return corpus;
}

/**
 * Deterministic edit of a fraction of the (text) files: a new variant of their content, same size
 * class. Returns the edited paths. `variant` selects which edit (so two edits differ).
 */
export function editFiles(spec: CorpusSpec, root: string, files: readonly CorpusFile[], fraction: number, variant: number): string[] {
  const rng = new Rng(`${spec.seed}/edit/${variant}`);
  const pool = textPool(new Rng(`${spec.seed}/pool`), 4 * MIB);
  const candidates = files.filter((f) => !f.binary && f.size >= 256 && f.size < MIB); // big enough that every variant differs
  const want = Math.round(files.length * fraction);
  const chosen = new Set<number>();
  while (chosen.size < Math.min(want, candidates.length)) chosen.add(rng.int(candidates.length));
  const paths: string[] = [];
  for (const i of [...chosen].sort((a, b) => a - b)) {
    const f = candidates[i]!;
    writeFileSync(join(root, f.path), content(spec, f, pool, variant));
    paths.push(f.path);
  }
  return paths;
}

/** Put edited files back to their original content. */
export function restoreFiles(spec: CorpusSpec, root: string, files: readonly CorpusFile[], paths: readonly string[]): void {
  const pool = textPool(new Rng(`${spec.seed}/pool`), 4 * MIB);
  const byPath = new Map(files.map((f) => [f.path, f]));
  for (const p of paths) writeFileSync(join(root, p), content(spec, byPath.get(p)!, pool));
}

/** The real source tree: `npm pack` of a pinned package, unpacked once into the cache. */
export function realCorpus(log: (s: string) => void = () => {}): Corpus | undefined {
  const dir = join(CACHE, 'npm-' + REAL_PACKAGE.replace(/[@/]/g, '_'));
  if (!existsSync(join(dir, 'package.json'))) {
    log(`fetching ${REAL_PACKAGE} with npm pack …`);
    const dl = join(CACHE, 'download');
    rmSync(dl, { recursive: true, force: true });
    mkdirSync(dl, { recursive: true });
    try {
      execFileSync('npm', ['pack', REAL_PACKAGE, '--silent', '--pack-destination', dl], { stdio: ['ignore', 'ignore', 'pipe'] });
      const tgz = readdirSync(dl).find((n) => n.endsWith('.tgz'));
      if (!tgz) throw new Error('npm pack produced no archive');
      const tmp = `${dir}.tmp`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      execFileSync('tar', ['xzf', join(dl, tgz), '-C', tmp, '--strip-components=1']);
      rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
    } catch (e) {
      log(`  could not fetch ${REAL_PACKAGE} (${(e as Error).message.split('\n')[0]}); the real-tree rows are skipped`);
      return undefined;
    } finally {
      rmSync(dl, { recursive: true, force: true });
    }
  }
  const files: CorpusFile[] = [];
  const dirs = new Set<string>();
  const walk = (rel: string) => {
    for (const d of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) {
        dirs.add(p);
        walk(p);
      } else files.push({ path: p, size: statSync(join(dir, p)).size, binary: false });
    }
  };
  walk('');
  const bytes = files.reduce((a, f) => a + f.size, 0);
  return { dir, files, bytes, dirs: dirs.size, description: `${REAL_PACKAGE} (npm pack): ${files.length.toLocaleString('en')} files, ${(bytes / MIB).toFixed(1)} MiB` };
}
