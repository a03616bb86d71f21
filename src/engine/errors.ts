/**
 * Every failure a user can cause or meet carries a stable `code` (what tests assert), a one-sentence
 * `message`, an optional `hint`, and structured `data`. Wording is chosen here once; the CLI and the
 * extension only print it.
 */
export type ErrorCode =
  | 'NOT_A_REPOSITORY'
  | 'ALREADY_A_REPOSITORY'
  | 'UNKNOWN_REVISION'
  | 'AMBIGUOUS_REVISION'
  | 'NOTHING_TO_COMMIT'
  | 'NOTHING_STAGED'
  | 'DIRTY_WORKTREE'
  | 'LOCKED'
  | 'INVALID_PATH'
  | 'PATH_NOT_FOUND'
  | 'PATH_OUTSIDE_REPOSITORY'
  | 'INVALID_NAME'
  | 'BRANCH_EXISTS'
  | 'TAG_EXISTS'
  | 'UNKNOWN_BRANCH'
  | 'UNKNOWN_TAG'
  | 'CURRENT_BRANCH'
  | 'BRANCH_NOT_MERGED'
  | 'UNBORN_HEAD'
  | 'CORRUPT_OBJECT'
  | 'MISSING_OBJECT'
  | 'CORRUPT_INDEX'
  | 'INVALID_CONFIG'
  | 'INVALID_ARGUMENT'
  | 'UNMERGED_PATHS'
  | 'MERGE_IN_PROGRESS'
  | 'NO_MERGE_IN_PROGRESS'
  | 'MERGE_CONFLICT'
  | 'UNRELATED_HISTORIES'
  | 'NO_STASH'
  | 'NOTHING_TO_STASH'
  | 'NOT_FAST_FORWARD'
  | 'HISTORY_LIMIT'
  | 'P2P'
  | 'INTERNAL';

export class PatchworkError extends Error {
  override readonly name = 'PatchworkError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function isPatchworkError(e: unknown, code?: ErrorCode): e is PatchworkError {
  return e instanceof PatchworkError && (code === undefined || e.code === code);
}

/** Node's errno code of an error, if it has one. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}
