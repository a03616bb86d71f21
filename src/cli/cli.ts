import { parseArgs, ParseArgsConfig } from 'node:util';
import { PatchworkError, Repository, isPatchworkError } from '../engine';

/** The shape every CLI command has; each area's file exports a list of these. */
export interface CliContext {
  cwd: string;
  out: (text: string) => void;
  err: (text: string) => void;
  color: boolean;
  repo: () => Promise<Repository>;
}

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

export interface CliCommand {
  name: string;
  aliases?: string[];
  summary: string;
  usage: string;
  /** Longer help: options and examples. */
  help?: string;
  options?: Options;
  /** Pass a literal `--` through in args (it separates revisions from paths). */
  keepDashDash?: boolean;
  run(ctx: CliContext, values: Values, args: string[]): Promise<number | void>;
}

export class UsageError extends Error {}

export function parse(cmd: CliCommand, argv: string[]): { values: Values; args: string[] } {
  const dash = argv.indexOf('--');
  const rest = dash >= 0 ? argv.slice(dash + 1) : undefined;
  try {
    const { values, positionals } = parseArgs({
      args: dash >= 0 ? argv.slice(0, dash) : argv,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    const args = rest ? [...positionals, ...(cmd.keepDashDash ? ['--'] : []), ...rest] : positionals;
    return { values: values as Values, args };
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, '.'));
  }
}

export function commandHelp(cmd: CliCommand): string {
  return `usage: patchwork ${cmd.usage}\n\n${cmd.summary}\n${cmd.help ? `\n${cmd.help.trimEnd()}\n` : ''}`;
}

const paint = (code: string) => (on: boolean, s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
export const green = paint('32');
export const red = paint('31');
export const yellow = paint('33');
export const cyan = paint('36');
export const bold = paint('1');
export const dim = paint('2');

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** One sentence and a hint on stderr, never a stack trace (unless PATCHWORK_DEBUG is set). */
export function reportError(e: unknown, err: (t: string) => void): number {
  if (e instanceof UsageError) {
    err(`patchwork: ${e.message}\n`);
    return 2;
  }
  if (isPatchworkError(e)) {
    err(`patchwork: error: ${e.message}\n`);
    if (e.hint) err(`hint: ${e.hint}\n`);
    if (process.env.PATCHWORK_DEBUG) err(`${e.stack}\n`);
    return 1;
  }
  const code = typeof e === 'object' && e && 'code' in e ? String((e as { code: unknown }).code) : '';
  if (code === 'EACCES' || code === 'EPERM') {
    err(`patchwork: error: permission denied: ${(e as Error).message}\n`);
    return 1;
  }
  if (code === 'ENOSPC') {
    err('patchwork: error: the disk is full.\n');
    return 1;
  }
  err(`patchwork: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  err(process.env.PATCHWORK_DEBUG ? `${(e as Error)?.stack}\n` : 'hint: this is a bug in Patchwork; run again with PATCHWORK_DEBUG=1 for details.\n');
  return 70;
}

export function requireArgs(args: string[], min: number, what: string): void {
  if (args.length < min) throw new UsageError(`missing ${what}.`);
}

export { PatchworkError };
