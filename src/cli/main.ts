import { Repository } from '../engine';
import { CliCommand, CliContext, commandHelp, parse, reportError, UsageError } from './cli';
import { branchCommands } from './commands/branches';
import { fileCommands } from './commands/files';
import { historyCommands } from './commands/history';
import { mergeCommands } from './commands/merge';
import { p2pCommands } from './commands/p2p';
import { repoCommands } from './commands/repo';

const VERSION = '0.1.0';

export const commands: CliCommand[] = [...repoCommands, ...fileCommands, ...historyCommands, ...branchCommands, ...mergeCommands, ...p2pCommands];

function overview(): string {
  const rows = commands.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`).join('\n');
  return `usage: patchwork <command> [options]

Patchwork: peer-to-peer version control. Every command works from any folder inside a repository.

Commands:
${rows}

Run "patchwork <command> --help" for a command's options.
`;
}

export async function main(argv: string[], io: { cwd?: string; out?: (t: string) => void; err?: (t: string) => void } = {}): Promise<number> {
  const out = io.out ?? ((t: string) => process.stdout.write(t));
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  const cwd = io.cwd ?? process.cwd();
  const color = !io.out && !!process.stdout.isTTY && !process.env.NO_COLOR;
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    if (name === 'help' && rest[0]) return main([rest[0], '--help'], io);
    out(overview());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    out(`patchwork ${VERSION}\n`);
    return 0;
  }
  const cmd = commands.find((c) => c.name === name || c.aliases?.includes(name));
  if (!cmd) {
    err(`patchwork: '${name}' is not a patchwork command. See 'patchwork --help'.\n`);
    return 2;
  }
  let repo: Repository | undefined;
  const ctx: CliContext = { cwd, out, err, color, repo: async () => (repo ??= await Repository.open(cwd)) };
  try {
    const { values, args } = parse(cmd, rest);
    if (values.help) {
      out(commandHelp(cmd));
      return 0;
    }
    return (await cmd.run(ctx, values, args)) ?? 0;
  } catch (e) {
    const code = reportError(e, err);
    if (e instanceof UsageError) err(`usage: patchwork ${cmd.usage}\n`);
    return code;
  }
}
