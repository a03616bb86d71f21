import type { DeliveredReason } from './wire.js';

/**
 * Why a push was delivered but not applied, in the words the CLI and the extension both show.
 * This file imports nothing at run time, so the extension's activation bundle can use it without libp2p.
 */
export function deliveredReasonText(reason: DeliveredReason | undefined, branch: string, name: string): string {
  switch (reason ?? 'not-current') {
    case 'diverged':
      return `${branch} has diverged`;
    case 'dirty':
      return `${name} has uncommitted changes`;
    case 'no-branch':
      return `you have no branch ${branch}`;
    case 'busy':
      return `${name}'s repository was busy`;
    case 'not-current':
    default:
      return `${branch} is not ${name}'s current branch`;
  }
}
