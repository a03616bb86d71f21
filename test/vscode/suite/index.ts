// Mocha entry for the tests that run inside VS Code's extension host (see ../harness.ts).
// esbuild bundles this file and the test files it requires into out/tests/vscode/suite.js;
// mocha itself stays external (the extension host `require`s it from node_modules).
//
// Add every new test/vscode/suite/*.itest.ts to `testFiles` below; test/vscode.test.ts fails if
// one is missing. The files are required only after mocha has defined its globals (suite, test).
import Mocha from 'mocha';
import * as vscode from 'vscode';

const testFiles: Record<string, () => unknown> = {
  'activation.itest.ts': () => require('./activation.itest'),
};

export function run(): Promise<void> {
  console.log(`VS Code ${vscode.version}, extension host on Node ${process.version}`);
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 20_000 });
  mocha.suite.emit('pre-require', globalThis, 'bundle', mocha);
  for (const [name, load] of Object.entries(testFiles)) {
    mocha.suite.emit('require', load(), name, mocha);
  }
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} VS Code integration test(s) failed`)) : resolve()));
  });
}
