/**
 * The one place where a sync failure becomes words for a person: a P2PError (or an engine error
 * met during a transfer) → PatchworkError('P2P' or the engine code, one sentence, a hint). The CLI
 * prints it; the extension shows it. `data.p2pCode` keeps the transport code for callers and tests.
 */
import { PatchworkError, isPatchworkError } from '../engine/index.js';
import { P2PError } from './errors.js';

export function describeSyncError(e: unknown, who = 'the peer'): PatchworkError {
  if (isPatchworkError(e)) return e;
  if (!(e instanceof P2PError)) {
    return new PatchworkError('INTERNAL', `Talking to ${who} failed: ${e instanceof Error ? e.message : String(e)}.`, 'This is a bug in Patchwork; run again with PATCHWORK_DEBUG=1 for details.');
  }
  const data = { ...e.data, p2pCode: e.code, cause: undefined };
  // Drop the "<protocol> with <peer>: " or "<peer>: " prefix the transport puts on its messages.
  const text = e.message.replace(/^(?:\/patchwork\/\S+(?: with \S+)?|[1-9A-HJ-NP-Za-km-z]{40,}): /, '');
  const make = (message: string, hint?: string) => new PatchworkError('P2P', message, hint, data);
  switch (e.code) {
    case 'REFUSED':
      if (e.data.invite === 'expired' || e.data.invite === 'used') return make(`${who} refused: ${text}.`, 'Ask the owner for a new invite (`patchwork invite`).');
      if (e.data.atGate) {
        return make(
          `${who} refused the connection: this repository's peer is not one of its collaborators.`,
          'Ask the owner to run `patchwork collaborators add <your peer id> <name>` (see `patchwork id`), or clone with an invite ticket.',
        );
      }
      return make(`${who} refused: ${text}.`, e.remote && /reader/.test(text) ? 'Ask the owner to make you a writer, or send them your changes another way.' : undefined);
    case 'DIAL_FAILED':
      if (e.data.noAddress) return make(`No address is known for ${who}.`, `Add one: patchwork collaborators add <peer id> <name> --address <multiaddr>, or pass the full address (…/p2p/<id>).`);
      if (e.data.self) return make(`${who} is this repository itself.`);
      return make(`Cannot reach ${who}: it is offline or unreachable at its known addresses.`, 'Is its peer running (`patchwork start`)? `patchwork peers` shows who is online.');
    case 'WRONG_PEER':
      return make(`The address for ${who} answered with a different peer id.`, 'The address is out of date; ask for the current one (`patchwork start` prints it).');
    case 'TIMEOUT':
      return make(`${who} did not answer in time; nothing was changed.`, 'Try again; a slow or overloaded peer can take a while.');
    case 'FRAME_TOO_LARGE':
      return make(`${who} sent an oversized message; the transfer was aborted and nothing was changed.`, 'A peer running a different Patchwork version, or a misbehaving one.');
    case 'PROTOCOL_VIOLATION':
      return e.remote
        ? make(`${who} rejected the exchange: ${text}.`, e.data.unsupported ? 'It may run an incompatible Patchwork version.' : undefined)
        : make(`${who} sent invalid data (${text}); the transfer was aborted and nothing was changed.`, 'It may run an incompatible or misbehaving version of Patchwork.');
    case 'CLOSED':
      return make(`The connection to ${who} was lost; nothing was changed.`, 'Try again.');
    case 'ABORTED':
      return make('Cancelled; nothing was changed.');
    case 'INTERNAL':
      return e.data.nothingToPush
        ? make('Nothing to push: this repository has no commits yet.', 'Commit first.')
        : make(`${who} could not serve the request (${text}).`, e.remote ? 'Its own log has the details.' : undefined);
    case 'IDENTITY_INSECURE':
    case 'IDENTITY_INVALID':
    case 'IDENTITY_EXISTS':
    case 'IDENTITY_MISSING':
      return make(`${e.message[0]!.toUpperCase()}${e.message.slice(1)}.`, e.code === 'IDENTITY_INSECURE' ? undefined : 'The peer identity lives in .patch/identity.key.');
  }
}
