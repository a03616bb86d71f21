/**
 * Public entry of the transport layer. The CLI, the extension and the sync protocols import from
 * here; only tests reach into individual modules.
 */
import './polyfill.js'; // before anything that loads libp2p
export { P2PError, isP2PError, type P2PErrorCode } from './errors.js';
export { silentLogger, type P2PLogger } from './log.js';
export {
  createIdentity,
  generateIdentity,
  loadIdentity,
  loadOrCreateIdentity,
  saveIdentity,
  type Identity,
  type LoadedIdentity,
} from './identity.js';
export { createPeerNode, DEFAULT_LISTEN, DEFAULT_YAMUX_WINDOW, type PeerNode, type PeerNodeOptions, type DiscoveryOptions } from './node.js';
export { FrameChannel, DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_JSON_SIZE, DEFAULT_TIMEOUT_MS, type Frame, type FrameChannelOptions, type OpOptions } from './frames.js';
export { openChannel, protocolId, serveProtocol, type OpenChannelOptions, type ProtocolHandler, type RequestContext, type ServeOptions } from './protocol.js';
// Sync on top of the transport: collaborators, invites, the clone/fetch/push protocols, the service.
export {
  ROLES,
  addCollaborator,
  removeCollaborator,
  listCollaborators,
  findCollaborator,
  touchCollaborator,
  ensureIdentity,
  identityPath,
  isPeerId,
  listenSetting,
  type Collaborator,
  type Role,
} from './collaborators.js';
export { createInvite, listInvites, revokeInvites, decodeTicket, encodeTicket, parseDuration, type Ticket, type InviteRecord } from './invites.js';
export { readPeerFile, runningPeer, type PeerFile } from './peer-file.js';
export { AccessControl } from './access.js';
export { FETCH_PROTOCOL, PUSH_PROTOCOL, CLONE_PROTOCOL, resolveTarget, targetOf, type PeerTarget, type SyncOptions, type SyncProgress, type SyncPhase, type RefChange } from './sync-common.js';
export { fetchFrom, pullFrom, integrate, type FetchResult, type PullResult, type Integration, type IntegrationKind } from './fetch.js';
export { pushTo, type PushResult, type PushReceived } from './push.js';
export { clone, parseCloneSource, type CloneOptions, type CloneResult } from './clone.js';
export { fetchAll, pullAll, pushAll, targetsFor, probePeer, type PeerOutcome, type PeerProbe } from './multi.js';
export { PeerService, startPeer, DEFAULT_SERVICE_LISTEN, type PeerServiceEvent, type PeerServiceOptions, type Disposable } from './service.js';
export { describeSyncError } from './describe.js';
export {
  AddressLearner,
  DHT_PROTOCOL,
  MDNS_SERVICE_TAG,
  NO_DISCOVERY,
  RELAY_SERVER_DEFAULTS,
  discoveryEnabled,
  discoveryOptions,
  discoverySettings,
  rememberAddress,
  type DiscoveredPeer,
  type DiscoveryFeatures,
  type DiscoverySettings,
  type LearnOutcome,
  type LocateOptions,
} from './discovery.js';
export type { PushOutcome, DeliveredReason } from './wire.js';
