#!/usr/bin/env node
// The README's "main job": Patchwork in a real VS Code on 127.0.0.1, in a sample workspace with a
// second local peer to sync with. Opens nothing itself: it prints the address to open in a browser
// and runs until Ctrl-C, then stops everything and removes what it made.
//
//   npm start                          build, then run (sample in a fresh temporary folder)
//   node scripts/start-vscode.mjs [--port N] [--no-build] [folder]
//
// Uses the VS Code build in .vscode-test/ (`npm run install:vscode`) through the test harness's
// server start (test/vscode/harness.ts: startServer), and the CLI peer helpers the tests use
// (test/vscode/cliPeer.ts), bundled on the fly with esbuild into out/start/.
//
// The sample: "weather-app", owned by Alice, whose `patchwork start` (the second peer) serves it on
// 127.0.0.1; the workspace is your clone of it (made with an invite, so each of you is a writer
// collaborator of the other). Alice has one commit you have not pulled yet, and you have an edit.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '..');
const { values: flags, positionals } = parseArgs({
  options: { port: { type: 'string' }, 'no-build': { type: 'boolean' } },
  allowPositionals: true,
});

if (!flags['no-build']) execFileSync(process.execPath, [join(root, 'esbuild.mjs')], { stdio: 'inherit', cwd: root });
for (const f of ['out/extension.js', 'out/peer.js', 'out/cli.js']) {
  if (!existsSync(join(root, f))) {
    console.error(`${f} is missing: run \`npm run build\` first (or leave out --no-build).`);
    process.exit(1);
  }
}

// The harness and the CLI peer helpers are TypeScript: bundle them (milliseconds) next to the build.
const esbuild = await import('esbuild');
const helpers = join(root, 'out', 'start', 'helpers.js');
await esbuild.build({
  stdin: {
    contents: "export { startServer, buildProblem } from './test/vscode/harness';\nexport { sharedRepository, commitFiles, CLI } from './test/vscode/cliPeer';\nexport { writeFiles } from './test/vscode/fixture';\n",
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['playwright-core', 'vscode'],
  outfile: helpers,
  logLevel: 'warning',
});
const { startServer, buildProblem, sharedRepository, commitFiles, writeFiles, CLI } = createRequire(import.meta.url)(helpers);

const problem = buildProblem();
if (problem) {
  console.error(problem);
  process.exit(1);
}

const given = positionals[0] ? resolve(positionals[0]) : undefined;
if (given && existsSync(given) && readdirSync(given).length) {
  console.error(`${given} is not empty: give a new or empty folder for the sample.`);
  process.exit(1);
}
const base = given ?? mkdtempSync(join(tmpdir(), 'patchwork-start-'));
mkdirSync(base, { recursive: true });

let shared;
let server;
let stopping;
async function stop(code) {
  stopping ??= (async () => {
    console.log('\nStopping…');
    await server?.close().catch(() => undefined);
    await shared?.peer.stop().catch(() => undefined);
    if (!given) rmSync(base, { recursive: true, force: true, maxRetries: 3 });
    console.log('Stopped.');
    process.exit(code);
  })();
  return stopping;
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  shared = await sharedRepository({
    origin: join(base, 'alice', 'weather-app'),
    clone: join(base, 'weather-app'),
    name: 'weather-app',
    ownerName: 'Alice',
    cloneName: 'You',
    files: {
      'README.md': '# Weather app\n\nShows the forecast for your town.\n',
      'src/forecast.ts': "export async function forecast(town: string): Promise<number> {\n  const res = await fetch(`/api/forecast?town=${town}`);\n  return (await res.json()).temp;\n}\n",
      'package.json': '{\n  "name": "weather-app",\n  "version": "1.0.0"\n}\n',
    },
  });
  await commitFiles(shared.origin, { 'src/wind.ts': 'export const windSpeed = (kmh: number): string => `${kmh} km/h`;\n' }, 'Add wind speed', { name: 'Alice', email: 'alice@example.org' });
  writeFiles(shared.clone, { 'README.md': '# Weather app\n\nShows the forecast for your town, in °C or °F.\n' });

  server = await startServer({ port: flags.port ? Number(flags.port) : undefined, settings: { 'workbench.colorTheme': 'Default Dark Modern' } });
  const url = server.url(shared.clone);
  const cli = `node ${CLI}`;
  console.log(`
Patchwork is running in VS Code (the build in .vscode-test/), on 127.0.0.1 only.

Open ${url}

  Workspace     ${shared.clone}
                your clone of Alice's "weather-app": one commit of hers to pull, one edit of yours
  Second peer   Alice: \`patchwork start\` in ${shared.origin}
                peer ${shared.peer.peerId}, listening on ${shared.peer.addresses.join(', ')}

Try: the status bar shows the sync item (1↓) once the peer has fetched; click it to pull, commit your edit
(Ctrl+Enter) and click it again to push: Alice's copy follows (\`${cli} log --oneline\` in her folder).
The Collaborators view (Source Control) shows Alice online. Make her commit something and push to you:
  cd ${shared.origin} && echo hi >> notes.txt && ${cli} add notes.txt && ${cli} commit -m hi && ${cli} push

Press Ctrl-C to stop (the server, Alice's peer${given ? '' : ' and the sample folder'} go away).`);
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  await stop(1);
}
