// Mocha entry for the tests that run inside VS Code's extension host (see ../harness.ts).
// esbuild bundles this file and the test files it requires into out/tests/vscode/suite.js;
// mocha itself stays external (the extension host `require`s it from node_modules).
//
// Add every new test/vscode/suite/*.itest.ts to `testFiles` below; test/vscode.test.ts fails if
// one is missing. The files are required only after mocha has defined its globals (suite, test).
// PATCHWORK_ITESTS (comma-separated file names) selects files; files in `separateRun` run only
// when selected (they need a differently configured window, e.g. an untrusted workspace).
import Mocha from 'mocha';
import * as vscode from 'vscode';

const testFiles: Record<string, () => unknown> = {
  'activation.itest.ts': () => require('./activation.itest'),
  'scm.itest.ts': () => require('./scm.itest'),
  'changes.itest.ts': () => require('./changes.itest'),
  'commit.itest.ts': () => require('./commit.itest'),
  'content.itest.ts': () => require('./content.itest'),
  'branches.itest.ts': () => require('./branches.itest'),
  'refresh.itest.ts': () => require('./refresh.itest'),
  'settings.itest.ts': () => require('./settings.itest'),
  'init.itest.ts': () => require('./init.itest'),
  'restricted.itest.ts': () => require('./restricted.itest'),
  'p2p.itest.ts': () => require('./p2p.itest'),
  'no-repository.itest.ts': () => require('./no-repository.itest'),
};
const separateRun = new Set(['restricted.itest.ts', 'p2p.itest.ts', 'no-repository.itest.ts']);

export function run(): Promise<void> {
  console.log(`VS Code ${vscode.version}, extension host on Node ${process.version}`);
  const selected = process.env.PATCHWORK_ITESTS?.split(',').map((s) => s.trim());
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 20_000 });
  mocha.suite.emit('pre-require', globalThis, 'bundle', mocha);
  for (const [name, load] of Object.entries(testFiles)) {
    if (selected ? !selected.includes(name) : separateRun.has(name)) continue;
    mocha.suite.emit('require', load(), name, mocha);
  }
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} VS Code integration test(s) failed`)) : resolve()));
  });
}
