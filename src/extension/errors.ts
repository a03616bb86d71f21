/**
 * Errors reach the user once, at the edge (the command wrapper), as one message with a "Show Log"
 * button. The engine chose the wording (`message` + `hint`); nothing here rephrases it.
 */
import { isPatchworkError } from '../engine';
import type { Log } from './log';
import type { UI } from './ui';

const logged = new WeakSet<object>();

/** The sentence shown for an error: the engine's message and hint, or the raw message. */
export function errorText(e: unknown): string {
  if (isPatchworkError(e)) return e.hint ? `${e.message} ${e.hint}` : e.message;
  return e instanceof Error ? e.message : String(e);
}

/** Log an error once (with its stack when it is not a PatchworkError). */
export function logError(log: Log, what: string, e: unknown): void {
  if (typeof e === 'object' && e !== null) {
    if (logged.has(e)) return;
    logged.add(e);
  }
  if (isPatchworkError(e)) log.error(`${what}: ${e.code}: ${errorText(e)}`);
  else if (e instanceof ShellError) log.warn(`${what}: ${e.message}`);
  else log.error(`${what}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
}

export async function showError(ui: UI, log: Log, what: string, e: unknown): Promise<void> {
  logError(log, what, e);
  const text = isPatchworkError(e) ? errorText(e) : `${what} failed: ${errorText(e)}`;
  if ((await ui.message('error', text, {}, 'Show Log')) === 'Show Log') log.show();
}

/** A refusal the extension itself decides (restricted mode, nothing to do): shown like engine errors. */
export class ShellError extends Error {
  constructor(
    message: string,
    readonly severity: 'info' | 'warning' | 'error' = 'error',
  ) {
    super(message);
  }
}
