// Peer-node side of the benchmark: cold start of the bundled libp2p node, from process start to a
// listening address (what the extension pays after activate()), and which sync functions src/p2p
// exports so bench.ts can add the clone/pull rows once they exist.
import { runChild } from './child';
import * as p2p from '../src/p2p/index.js';

runChild({
  async start() {
    const loaded = performance.now(); // ms since the process started: Node start + loading the bundle
    const node = await p2p.createPeerNode({ privateKey: (await p2p.generateIdentity()).privateKey, isAllowed: () => true });
    if (!node.addresses().length) throw new Error('the node has no listen address');
    const listening = performance.now();
    await node.stop();
    return { ms: [listening], info: { loadedMs: loaded, startMs: listening - loaded } };
  },

  async exports() {
    return { ms: [], info: { names: Object.keys(p2p) } };
  },
});
