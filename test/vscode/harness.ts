// Runs the extension inside a real VS Code build: the VS Code server from the npm package
// `code-server` (installed by scripts/install-vscode.mjs into .vscode-test/), its workbench in
// Debian's headless chromium driven by playwright-core. The extension and the tests run on the
// server's Node extension host with the real `vscode` API. Recipe: /work/shared/vscode-real.md.
//
//   runVSCodeTests({ workspace, suite })  -> { exitCode, log }     (mocha in the extension host)
//   openWorkbench({ workspace })          -> { page, close() }     (UI session, e.g. screenshots)
//   startServer()                         -> { port, url(workspace), close() }  (no browser: for
//                                            `npm start`, which prints the address to open)
//
// Every run gets its own temp folder (HOME, TMPDIR, XDG dirs, user data, server data, browser
// profile), its own port on 127.0.0.1 and its own process group, all removed afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { format } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';

export interface WorkbenchOptions {
  /** Folder opened in the window (absolute path), or a `.code-workspace` file for a multi-root workspace. */
  workspace: string;
  /** Extra user settings, merged over the quiet defaults below. */
  settings?: Record<string, unknown>;
  /** Extra environment for the server and so for the extension host. */
  env?: Record<string, string>;
  /** Folder with the extension's package.json; default: this project. */
  extensionPath?: string;
  /** How long to wait for the server to listen and the workbench to load. Default 30 s. */
  startTimeoutMs?: number;
  /**
   * A folder for VS Code's user data and server data (extensions' global storage) that outlives the
   * run, so a later run starts as a second start would (e.g. with the peer module's code cache).
   * Default: inside the run folder, removed afterwards.
   */
  dataDir?: string;
}

export interface RunOptions extends WorkbenchOptions {
  /** Bundled mocha entry that exports `run(): Promise<void>` (absolute path). */
  suite: string;
  /** Whole run: start, tests, result. Default 90 s. */
  timeoutMs?: number;
}

export interface RunResult {
  /** What the workbench reported through codeAutomationExit: 0 = all tests passed. -1 = no result. */
  exitCode: number;
  /** The extension host's console output during the tests (mocha's report), one line per call. */
  log: string;
  /** Server output and browser errors: worth printing when exitCode is not 0. */
  diagnostics: string;
}

export interface Workbench {
  page: Page;
  /** The URL the page was opened with. */
  url: string;
  /** Console output of the extension host so far (codeAutomationLog). */
  log(): string;
  /** Server output and browser errors so far. */
  diagnostics(): string;
  close(): Promise<void>;
}

export const projectRoot = findProjectRoot(__dirname);
const CHROMIUM = process.env.PATCHWORK_CHROMIUM ?? '/usr/bin/chromium';
const INSTALL_HINT = 'run `node scripts/install-vscode.mjs`';

/** Settings that keep the window quiet and offline; callers' settings override them. */
export const quietSettings: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden', // the empty chat panel
  'git.enabled': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'chat.disableAIFeatures': true,
};

interface VSCodeBuild {
  nodeBin: string;
  serverMain: string;
  version: string;
}

/** Why the VS Code server cannot start here (its build is not installed), or undefined. */
export function buildProblem(): string | undefined {
  try {
    findBuild();
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

/** Why the tests cannot run here (missing VS Code build, chromium or playwright-core), or undefined. */
export function prerequisiteProblem(): string | undefined {
  const build = buildProblem();
  if (build) return build;
  if (!existsSync(CHROMIUM)) {
    return (
      `chromium not found at ${CHROMIUM} (set PATCHWORK_CHROMIUM to use another). ` +
      'Install it: run `node scripts/install-vscode.mjs --with-deps` as root (it runs apt-get), ' +
      'or `apt-get install -y chromium` yourself.'
    );
  }
  try {
    require.resolve('playwright-core', { paths: [projectRoot] });
  } catch {
    return 'playwright-core is not installed: run `npm install` (it is a devDependency).';
  }
  return undefined;
}

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

function findBuild(): VSCodeBuild {
  const cache = join(projectRoot, '.vscode-test');
  const marker = join(cache, 'vscode-build.json');
  let m: { nodeBin?: string; serverMain?: string; codeServer?: string };
  try {
    m = JSON.parse(readFileSync(marker, 'utf8'));
  } catch {
    throw new Error(`VS Code build for the integration tests is not installed (no ${marker}): ${INSTALL_HINT}`);
  }
  const nodeBin = join(cache, m.nodeBin ?? '');
  const serverMain = join(cache, m.serverMain ?? '');
  if (!m.nodeBin || !m.serverMain || !existsSync(nodeBin) || !existsSync(serverMain)) {
    throw new Error(`VS Code build in ${cache} is incomplete: ${INSTALL_HINT} --force`);
  }
  return { nodeBin, serverMain, version: m.codeServer ?? '?' };
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what}: timed out after ${(ms / 1000).toFixed(0)} s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Keeps the last `max` characters of what is appended. */
class Tail {
  private text = '';
  constructor(private readonly max: number) {}
  add(s: string): void {
    this.text += s;
    if (this.text.length > this.max * 2) this.text = this.text.slice(-this.max);
  }
  toString(): string {
    return this.text.slice(-this.max);
  }
}

export interface ServerOptions {
  /** Extra user settings, merged over the quiet defaults. */
  settings?: Record<string, unknown>;
  /** Extra environment for the server and so for the extension host. */
  env?: Record<string, string>;
  /** How long to wait for the server to listen. Default 30 s. */
  startTimeoutMs?: number;
  /** Port on 127.0.0.1 (default: a free one). */
  port?: number;
  /** See WorkbenchOptions.dataDir. */
  dataDir?: string;
}

/** A running VS Code server on 127.0.0.1 with a run folder of its own (HOME, TMPDIR, user data). */
export interface VSCodeServer {
  readonly port: number;
  /** The run folder (removed by close() unless PATCHWORK_VSCODE_KEEP is set). */
  readonly runDir: string;
  /** The clean environment the server runs with (HOME, TMPDIR and XDG dirs inside the run folder). */
  readonly env: Readonly<Record<string, string>>;
  /** A folder inside the run folder (created). */
  dir(name: string): string;
  /**
   * The address that opens `workspace` (a folder, or a .code-workspace file) with the extension at
   * `extensionPath` (default: this project) under development, and the mocha entry `suite` if given.
   */
  url(workspace: string, opts?: { extensionPath?: string; suite?: string }): string;
  /** Server output so far (and anything else added). */
  readonly diagnostics: { add(s: string): void; toString(): string };
  /** Stop the server (its whole process group) and remove the run folder. */
  close(): Promise<void>;
}

/**
 * Starts VS Code's own server entry from the installed build (see the file comment), detached in a
 * process group of its own; resolves once it listens.
 */
export async function startServer(opts: ServerOptions = {}): Promise<VSCodeServer> {
  const problem = buildProblem();
  if (problem) throw new Error(problem);
  const build = findBuild();
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  const runDir = mkdtempSync(join(tmpdir(), 'patchwork-vscode-'));
  const dir = (name: string) => {
    const p = join(runDir, name);
    mkdirSync(p, { recursive: true });
    return p;
  };
  const home = dir('home');
  const tmp = dir('tmp');
  const kept = (name: string) => {
    const p = join(opts.dataDir!, name);
    mkdirSync(p, { recursive: true });
    return p;
  };
  const userData = opts.dataDir ? kept('user-data') : dir('user-data');
  const serverData = opts.dataDir ? kept('server-data') : dir('server-data');
  const xdg = { XDG_CONFIG_HOME: dir('home/.config'), XDG_CACHE_HOME: dir('home/.cache'), XDG_DATA_HOME: dir('home/.local/share') };
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify({ ...quietSettings, ...opts.settings }, null, 2));

  const diagnostics = new Tail(20_000);
  let server: ChildProcess | undefined;
  const killServer = () => {
    if (server?.pid !== undefined && server.exitCode === null && server.signalCode === null) {
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  // If this process dies mid-run, do not leave a server behind.
  process.on('exit', killServer);

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      try {
        if (server?.pid !== undefined && server.exitCode === null && server.signalCode === null) {
          const exited = new Promise<void>((res) => server!.once('exit', () => res()));
          try {
            process.kill(-server.pid, 'SIGTERM');
          } catch {
            // already gone
          }
          await withTimeout(exited, 5_000, 'stopping the server').catch(killServer);
        }
      } finally {
        killServer();
        process.off('exit', killServer);
        if (!process.env.PATCHWORK_VSCODE_KEEP) rmSync(runDir, { recursive: true, force: true, maxRetries: 3 });
        else diagnostics.add(`[harness] kept run folder ${runDir}\n`);
      }
    })());

  const env: Record<string, string> = {
    // A clean environment: nothing from the calling test runner (NODE_TEST_CONTEXT,
    // NODE_OPTIONS) or from a VS Code terminal (VSCODE_*) reaches the server.
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
    HOME: home,
    TMPDIR: tmp,
    ...xdg,
    EXTENSIONS_GALLERY: '{}', // else it looks up the marketplace
    ...opts.env,
  };
  try {
    const port = opts.port ?? (await freePort());
    const serverArgs = [
      build.serverMain,
      '--host', '127.0.0.1',
      '--port', String(port),
      '--without-connection-token',
      '--accept-server-license-terms',
      '--enable-smoke-test-driver', // lets the page pass extensionTestsPath in the payload
      '--telemetry-level', 'off',
      '--user-data-dir', userData,
      '--server-data-dir', serverData,
      '--extensions-dir', dir('extensions'),
    ];
    server = spawn(build.nodeBin, serverArgs, { cwd: runDir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const listening = new Promise<void>((res, rej) => {
      const onData = (chunk: Buffer) => {
        const text = chunk.toString();
        diagnostics.add(text);
        if (text.includes('Extension host agent listening on')) res();
      };
      server!.stdout!.on('data', onData);
      server!.stderr!.on('data', onData);
      server!.once('error', rej);
      server!.once('exit', (code, signal) => rej(new Error(`VS Code server exited early (${signal ?? code})`)));
    });
    await withTimeout(listening, startTimeoutMs, 'starting the VS Code server');
    const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${p}`;
    return {
      port,
      runDir,
      env,
      dir,
      diagnostics,
      close,
      url: (workspace, o = {}) => {
        const payload: [string, string][] = [['extensionDevelopmentPath', remote(resolve(o.extensionPath ?? projectRoot))], ['skipWelcome', 'true']];
        if (o.suite) payload.push(['extensionTestsPath', remote(o.suite)]);
        return (
          `http://127.0.0.1:${port}/?${workspace.endsWith('.code-workspace') ? 'workspace' : 'folder'}=${encodeURIComponent(workspace)}` +
          `&payload=${encodeURIComponent(JSON.stringify(payload))}`
        );
      },
    };
  } catch (e) {
    await close();
    const err = e as Error;
    err.message += `\n--- VS Code server output ---\n${diagnostics}`;
    throw err;
  }
}

interface Session {
  page: Page;
  url: string;
  logLines: string[];
  diagnostics: { add(s: string): void; toString(): string };
  exitCode: Promise<number>;
  close(): Promise<void>;
}

async function startSession(opts: WorkbenchOptions, suite: string | undefined): Promise<Session> {
  const problem = prerequisiteProblem();
  if (problem) throw new Error(problem);
  for (const [name, p] of [['workspace', opts.workspace], ['suite', suite]] as const) {
    if (p !== undefined && (!isAbsolute(p) || !existsSync(p))) throw new Error(`${name} must be an existing absolute path: ${p}`);
  }
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  const server = await startServer({ settings: opts.settings, env: opts.env, startTimeoutMs, dataDir: opts.dataDir });
  const { diagnostics } = server;
  const logLines: string[] = [];
  let context: BrowserContext | undefined;
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      try {
        await withTimeout(context?.close() ?? Promise.resolve(), 10_000, 'closing chromium').catch((e: Error) =>
          diagnostics.add(`[harness] ${e.message}\n`),
        );
      } finally {
        await server.close();
      }
    })());

  try {
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(server.dir('browser-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 800 },
      env: { ...server.env },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      ],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => diagnostics.add(`[page error] ${e.message}\n`));
    page.on('console', (m) => {
      if (m.type() === 'error') diagnostics.add(`[browser console] ${m.text()}\n`);
    });

    let reportExit: (code: number) => void = () => undefined;
    const exitCode = new Promise<number>((res) => (reportExit = res));
    await page.exposeFunction('codeAutomationExit', (code: number) => reportExit(Number(code)));
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
      const line = format(...(Array.isArray(args) ? args : [args]));
      logLines.push(type === 'error' ? `[error] ${line}` : line);
    });

    const url = server.url(opts.workspace, { extensionPath: opts.extensionPath, suite });
    await page.goto(url, { timeout: startTimeoutMs });
    return { page, url, logLines, diagnostics, exitCode, close };
  } catch (e) {
    await close();
    const err = e as Error;
    err.message += `\n--- VS Code server / browser output ---\n${diagnostics}`;
    throw err;
  }
}

/**
 * Opens `workspace` in VS Code with the extension under development, runs the mocha entry
 * `suite` inside the extension host and resolves with its exit code and output. Never rejects
 * for test failures; rejects only if VS Code cannot be started.
 */
export async function runVSCodeTests(opts: RunOptions): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const started = Date.now();
  const session = await startSession(opts, opts.suite);
  let exitCode = -1;
  try {
    const left = Math.max(1_000, timeoutMs - (Date.now() - started));
    exitCode = await withTimeout(session.exitCode, left, 'waiting for the tests').catch(() => {
      session.logLines.push(`[harness] no result (codeAutomationExit) within timeoutMs = ${timeoutMs} ms`);
      return -1;
    });
  } finally {
    await session.close();
  }
  return { exitCode, log: session.logLines.join('\n'), diagnostics: session.diagnostics.toString() };
}

/**
 * Opens `workspace` in VS Code with the extension under development, without tests, for driving
 * the UI (F1, screenshots). Resolves when the workbench has rendered; the extension may still be
 * activating, so wait for a sign of it before using its commands. Always call close().
 */
export async function openWorkbench(opts: WorkbenchOptions): Promise<Workbench> {
  const session = await startSession(opts, undefined);
  try {
    await session.page.waitForSelector('.monaco-workbench', { timeout: opts.startTimeoutMs ?? 30_000 });
  } catch (e) {
    await session.close();
    throw e;
  }
  return {
    page: session.page,
    url: session.url,
    log: () => session.logLines.join('\n'),
    diagnostics: () => session.diagnostics.toString(),
    close: session.close,
  };
}
