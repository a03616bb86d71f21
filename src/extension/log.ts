import * as vscode from 'vscode';

/** The "Patchwork" output channel (a LogOutputChannel: levels, timestamps, "Set Log Level…"). */
export type Log = vscode.LogOutputChannel;

export function createLog(): Log {
  return vscode.window.createOutputChannel('Patchwork', { log: true });
}
