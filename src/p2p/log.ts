/**
 * The logger this layer writes to. The CLI passes one that prints to stderr, the extension one that
 * writes to its output channel, tests a silent or collecting one. Messages name peers by peer id;
 * nothing secret (keys, invite secrets) is ever passed to it.
 */
export interface P2PLogger {
  debug?(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: P2PLogger = {
  info() {},
  warn() {},
  error() {},
};
