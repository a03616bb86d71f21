/**
 * Loading a CommonJS bundle with a V8 code cache. out/peer.js is ~1.4 MB of libp2p that V8 would
 * otherwise parse and compile on every start of the extension host, on the path to the peer
 * listening. The first load compiles it as `require` would; once the code has run (the peers have
 * started), `save()` writes what V8 has compiled by then to `<dir>/<name>.<key>.v8cache`. Later
 * loads hand that to V8, which then skips most parsing and compiling, of the functions that ran
 * during the start too.
 *
 * The key is a SHA-256 of the bundle's bytes, the Node and V8 versions and the architecture (V8's
 * own check of a cache compares only the source's length), so a rebuilt bundle or another VS Code
 * build never uses a stale cache. V8 rejects a cache it cannot use (other flags) and then compiles
 * as usual. No vscode import: the node tests exercise it directly (through the peer worker).
 */
import { createHash } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

export type CodeCacheState = 'used' | 'rejected' | 'none';

const WRAPPER = ['exports', 'require', 'module', '__filename', '__dirname'] as const;

/** What, besides the bundle's bytes, a cache is only good for. */
function keyMeta(): string {
  return `\0${process.version}\0${process.versions.v8}\0${process.arch}`;
}

export class CachedBundle {
  private script: Script | undefined;
  private _state: CodeCacheState = 'none';
  private saving: Promise<boolean> | undefined;

  private constructor(
    readonly file: string,
    private readonly source: string,
    /** Where this bundle's cache lives (a file name that includes the key). */
    readonly cacheFile: string,
    private readonly cached: Buffer | undefined,
  ) {}

  /**
   * Read the bundle and its cache (if any), synchronously: for a thread that has nothing else to do
   * (the peer worker), where asynchronous reads would only queue in the process's libuv thread pool
   * behind the extension host's own file system work.
   */
  static readSync(file: string, cacheDir: string): CachedBundle {
    const bytes = readFileSync(file);
    const key = createHash('sha256').update(bytes).update(keyMeta()).digest('hex').slice(0, 24);
    const cacheFile = join(cacheDir, `${basename(file)}.${key}.v8cache`);
    let cached: Buffer | undefined;
    try {
      cached = readFileSync(cacheFile);
    } catch {
      cached = undefined;
    }
    return new CachedBundle(file, bytes.toString('utf8'), cacheFile, cached?.length ? cached : undefined);
  }

  /** Whether V8 took the cache when the bundle was compiled. */
  get state(): CodeCacheState {
    return this._state;
  }

  /** Compile (with the cache, if there is one) and run the bundle; returns its exports. Once. */
  run<T>(): T {
    if (this.script) throw new Error(`${this.file} has already run`);
    const script = new Script(Module.wrap(this.source), { filename: this.file, cachedData: this.cached });
    this.script = script;
    this._state = !this.cached ? 'none' : script.cachedDataRejected ? 'rejected' : 'used';
    const mod = new Module(this.file);
    mod.filename = this.file;
    const fn = script.runInThisContext() as (...args: unknown[]) => void;
    const args: Record<(typeof WRAPPER)[number], unknown> = { exports: mod.exports, require: createRequire(this.file), module: mod, __filename: this.file, __dirname: dirname(this.file) };
    fn.apply(mod.exports, WRAPPER.map((k) => args[k]));
    mod.loaded = true;
    return mod.exports as T;
  }

  /**
   * Write the cache when V8 did not use one (none yet, or rejected), replacing this bundle's older
   * caches in the folder. Call once the code has run for a while: what V8 compiled until then goes in.
   * Resolves true when a cache was written.
   */
  save(): Promise<boolean> {
    return (this.saving ??= (async () => {
      if (!this.script || this._state === 'used') return false;
      const data = this.script.createCachedData();
      const dir = dirname(this.cacheFile);
      await fsp.mkdir(dir, { recursive: true });
      const tmp = `${this.cacheFile}.${process.pid}.tmp`;
      await fsp.writeFile(tmp, data);
      await fsp.rename(tmp, this.cacheFile);
      const prefix = `${basename(this.file)}.`;
      for (const name of await fsp.readdir(dir)) {
        const p = join(dir, name);
        if (name.startsWith(prefix) && name.endsWith('.v8cache') && p !== this.cacheFile) await fsp.rm(p, { force: true });
      }
      return true;
    })());
  }
}
