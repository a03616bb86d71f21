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
