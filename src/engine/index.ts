/**
 * The engine's public API: the extension, the CLI, the p2p layer and the tests import from here.
 * No `vscode`, no libp2p below this line (test/layers.test.ts keeps it so).
 */
export { PatchworkError, isPatchworkError } from './errors';
export type { ErrorCode } from './errors';
export { objectId, isObjectId } from './hash';
export type { ObjectType } from './hash';
export { encodeTree, decodeTree, encodeCommit, decodeCommit, validateObject, summaryLine, formatSignature } from './objects';
export type { Commit, TreeEntry, Signature, FileMode, TreeMode } from './objects';
export { LooseObjectStore } from './store';
export type { ObjectStore, StoredObject } from './store';
export { Repository, PATCH_DIR } from './repository';
export type { FlatTree, FlatEntry, Identity, OpenOptions } from './repository';
export { HEADS, TAGS, refNameProblem, assertValidRefName } from './refs';
export type { Head } from './refs';
export { Index } from './index-file';
export type { IndexEntry, Conflict } from './index-file';
export { getConfigValue, setConfigValue } from './config';
export type { RepoConfig } from './config';
export { toRepoPath, matchesSpec } from './pathspec';
export { pathComponentProblem } from './paths';
export { resolveRevision } from './revparse';
export { add } from './commands/add';
export type { AddResult } from './commands/add';
export { commit, normalizeMessage, readMergeHeads } from './commands/commit';
export type { CommitResult, CommitOptions } from './commands/commit';
export { status, worktreeState, diffTrees } from './commands/status';
export type { StatusResult } from './commands/status';
export { checkout, switchTree } from './commands/checkout';
export type { CheckoutResult } from './commands/checkout';
export { reset, restore, remove, indexFromTree } from './commands/reset';
export type { ResetMode } from './commands/reset';
export { listBranches, createBranch, deleteBranch, renameBranch, listTags, createTag, deleteTag } from './commands/branch';
export type { BranchInfo } from './commands/branch';
export { walkLog, ancestors, isAncestor, lookupPath } from './commands/log';
export type { LogEntry, LogOptions } from './commands/log';
export { diffWorktree, diffStaged, diffRevisions, diffCommit, formatPatch, isBinary } from './commands/diff';
export type { FileDiff } from './commands/diff';
export { fsck } from './commands/fsck';
export type { FsckResult, FsckProblem } from './commands/fsck';
export { negotiationHaves, objectsToSend, Quarantine, MAX_INCOMING_OBJECT } from './transfer';
export type { OutgoingObject } from './transfer';
export { advertiseRefs, validateAdvertisedRefs, updateTrackingRefs, trackingRefs, trackingPrefix, fastForwardBranch } from './sync';
export type { AdvertisedRefs, FastForwardOutcome } from './sync';
