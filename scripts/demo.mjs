// The README's "main job": build the CLI, then run Patchwork on a real repository in a fresh folder
// (the seed's flow: init, add, commit, branch, checkout, log, fsck). Prints every command and its output.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
execFileSync(process.execPath, [join(root, 'esbuild.mjs')], { stdio: 'inherit', cwd: root });
const cli = join(root, 'out/cli.js');
const dir = process.argv[2] ? resolve(process.argv[2]) : mkdtempSync(join(tmpdir(), 'patchwork-demo-'));
mkdirSync(dir, { recursive: true });

function pw(...args) {
  console.log(`\n$ patchwork ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8' });
  process.stdout.write(r.stdout + r.stderr + (r.status ? `(exit ${r.status})\n` : ''));
}

console.log(`Demo repository: ${dir}`);
pw('init', 'alice');
mkdirSync(join(dir, 'src'), { recursive: true });
writeFileSync(join(dir, 'src/main.rs'), 'fn main() { println!("Hello from Patchwork"); }\n');
pw('status');
pw('add', 'src/main.rs');
pw('commit', '-m', 'Add initial main file');
pw('checkout', '-b', 'feature');
appendFileSync(join(dir, 'src/main.rs'), '// change on a branch\n');
pw('diff');
pw('commit', '-a', '-m', 'Change main on a branch');
pw('checkout', 'main');
pw('log', '--oneline', 'feature');
pw('checkout', 'no-such-branch');
pw('fsck');
console.log(`\nTry it yourself: cd ${dir} && node ${cli} --help`);
