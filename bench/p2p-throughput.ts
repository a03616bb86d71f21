// One-stream throughput: libp2p (TCP + Noise + Yamux, our FrameChannel, 1 MiB frames) against a raw
// TCP socket on 127.0.0.1, both measured in the same run. Two setups: both ends in one process (one
// event loop, as in the tests) and the receiver in a child process (as between two real peers; on a
// 2-core machine each end gets a core). Prints the median of several runs and the ratio to raw TCP
// for each Yamux window configuration `initial/max` (both ends always use the same one: see node.ts on
// why they must). 256k/16m is libp2p's default, 256k/4m ours.
//
//   node esbuild.mjs --bench && node out/bench/p2p-throughput.js [--mib 128] [--runs 5] \
//        [--configs 256k/256k,256k/16m,256k/4m,1m/1m,4m/4m,16m/16m] [--only inproc|child] [--no-tcp]
//
// Each row also gives the CPU time per MiB of the sender and the receiver (whole process, and main
// thread), and `paired`: the median of each run's ratio to the raw TCP run just before it.
// `node --cpu-prof out/bench/p2p-throughput.js …` profiles both ends (the child gets the node flags).
import '../src/p2p/polyfill.js';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { createPeerNode, generateIdentity, openChannel, serveProtocol, type PeerNode } from '../src/p2p/index.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}
function parseSize(s: string): number {
  const m = /^(\d+)([km]?)$/i.exec(s.trim());
  if (!m) throw new Error(`bad size ${s}`);
  return Number(m[1]) * (m[2]?.toLowerCase() === 'k' ? 1024 : m[2]?.toLowerCase() === 'm' ? 1024 * 1024 : 1);
}

const MIB = 1024 * 1024;
const totalMiB = Number(arg('mib', '128'));
const runs = Number(arg('runs', '5'));
interface WindowConfig {
  initial: number;
  max: number;
  label: string;
}
const configs: WindowConfig[] = arg('configs', '256k/256k,256k/16m,256k/4m,1m/1m,4m/4m,16m/16m')
  .split(',')
  .map((c) => {
    const [i, m] = c.split('/');
    return { initial: parseSize(i!), max: parseSize(m ?? i!), label: c };
  });
const only = arg('only', '');
/** --no-tcp: libp2p runs only, no raw TCP reference (to profile libp2p alone). */
const withTcp = !process.argv.includes('--no-tcp');
const FRAME = MIB;
const PROTOCOL = '/patchwork/bench/1.0.0';
const payload = new Uint8Array(FRAME).map((_, i) => i & 0xff);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (mibps: number) => `${mibps.toFixed(0).padStart(5)} MiB/s`;

/** Receiving side: counts bytes on a raw TCP server and on the libp2p protocol. */
async function startReceiver(w: WindowConfig): Promise<{ tcpPort: number; addr: string; stop: () => Promise<void> }> {
  const server = createServer((sock) => {
    let got = 0;
    let want = -1;
    let cpu0 = cpuNow();
    sock.on('data', (d: Buffer) => {
      if (want < 0) {
        cpu0 = cpuNow();
        want = d.readUInt32BE(0) * MIB; // first 4 bytes: how many MiB follow
        got = d.byteLength - 4;
      } else got += d.byteLength;
      if (got >= want) sock.end(JSON.stringify(cpuSince(cpu0)));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const node = await createPeerNode({
    privateKey: (await generateIdentity()).privateKey,
    isAllowed: () => true,
    yamuxWindow: w.max,
    yamuxInitialWindow: w.initial,
  });
  await serveProtocol(
    node,
    PROTOCOL,
    async ({ channel }) => {
      let bytes = 0;
      let cpu0: Cpu | undefined;
      for await (const f of channel.frames()) {
        cpu0 ??= cpuNow();
        if (f.kind === 'binary') bytes += f.data.byteLength;
      }
      await channel.sendJson({ bytes, cpu: cpu0 === undefined ? { process: 0, main: 0 } : cpuSince(cpu0) });
    },
    { repoName: 'bench', isAllowed: () => true, maxFrameSize: FRAME },
  );
  return {
    tcpPort: (server.address() as AddressInfo).port,
    addr: node.addresses()[0]!,
    stop: async () => {
      await node.stop();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface Run {
  mibps: number;
  /**
   * CPU time (user + system) per MiB moved, in microseconds, of each end: its whole process, and its
   * main thread alone (the event loop, where libp2p, Noise and the frame channel run; the rest is
   * mostly V8's garbage-collector threads).
   */
  senderCpu: number;
  receiverCpu: number;
  senderMain: number;
  receiverMain: number;
}

interface Cpu {
  process: number;
  main: number;
}

/** CPU time used so far, in µs: the process (all threads), and this thread (Linux only, else 0; 10 ms resolution). */
function cpuNow(): Cpu {
  const u = process.cpuUsage();
  let main = 0;
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    main = (Number(f[11]) + Number(f[12])) * 10_000; // utime + stime, in clock ticks of 10 ms
  } catch {
    // not Linux
  }
  return { process: u.user + u.system, main };
}

const cpuSince = (t0: Cpu): Cpu => {
  const t = cpuNow();
  return { process: t.process - t0.process, main: t.main - t0.main };
};

function result(mib: number, secs: number, sender: Cpu, receiver: Cpu): Run {
  return {
    mibps: mib / secs,
    senderCpu: sender.process / mib,
    receiverCpu: receiver.process / mib,
    senderMain: sender.main / mib,
    receiverMain: receiver.main / mib,
  };
}

async function rawTcpOnce(port: number, mib: number): Promise<Run> {
  const sock = connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const reply: Buffer[] = [];
  sock.on('data', (d: Buffer) => reply.push(d));
  const done = new Promise<void>((r) => sock.once('end', () => r()));
  const cpu0 = cpuNow();
  const t0 = performance.now();
  const head = Buffer.alloc(4);
  head.writeUInt32BE(mib);
  sock.write(head);
  for (let i = 0; i < mib; i++) {
    if (!sock.write(payload)) await new Promise<void>((r) => sock.once('drain', () => r()));
  }
  await done;
  const secs = (performance.now() - t0) / 1000;
  const sender = cpuSince(cpu0);
  sock.destroy();
  const receiver = JSON.parse(Buffer.concat(reply).toString()) as Cpu;
  return result(mib, secs, sender, receiver);
}

async function libp2pOnce(node: PeerNode, addr: string, mib: number): Promise<Run> {
  const ch = await openChannel(node, addr, PROTOCOL, { maxFrameSize: FRAME });
  const cpu0 = cpuNow();
  const t0 = performance.now();
  for (let i = 0; i < mib; i++) await ch.sendBinary(payload);
  await ch.close();
  const reply = (await ch.readJson()) as { bytes: number; cpu: Cpu };
  const secs = (performance.now() - t0) / 1000;
  const sender = cpuSince(cpu0);
  if (reply.bytes !== mib * MIB) throw new Error(`receiver got ${reply.bytes} bytes`);
  return result(mib, secs, sender, reply.cpu);
}

/** Receiver in this process or in a child process (same bundle, `--receiver <window>`). */
async function receiver(w: WindowConfig, child: boolean): Promise<{ tcpPort: number; addr: string; stop: () => Promise<void> }> {
  if (!child) return startReceiver(w);
  // The child gets this process's node flags, so `node --cpu-prof …` profiles both ends.
  const proc = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '--receiver', JSON.stringify(w)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
  });
  const info = JSON.parse(line) as { tcpPort: number; addr: string };
  return {
    ...info,
    stop: async () => {
      proc.stdin!.end();
      await new Promise<void>((r) => (proc.exitCode !== null ? r() : proc.once('exit', () => r())));
    },
  };
}

/**
 * Runs are interleaved round-robin over raw TCP and every window configuration, so a burst of load
 * from something else on the machine hits all of them alike instead of skewing one.
 */
async function measure(child: boolean): Promise<void> {
  console.log(child ? '\nreceiver in a child process:' : '\nboth ends in one process:');
  const setups = [];
  for (const w of configs) {
    const rx = await receiver(w, child);
    const sender = await createPeerNode({
      privateKey: (await generateIdentity()).privateKey,
      isAllowed: () => true,
      yamuxWindow: w.max,
      yamuxInitialWindow: w.initial,
    });
    setups.push({ w, rx, sender, results: [] as Run[] });
  }
  try {
    const tcpPort = setups[0]!.rx.tcpPort;
    if (withTcp) await rawTcpOnce(tcpPort, 16); // warm-up
    for (const s of setups) await libp2pOnce(s.sender, s.rx.addr, 16); // warm-up: connection, handshake, JIT
    const tcp: Run[] = [];
    for (let i = 0; i < runs; i++) {
      if (withTcp) tcp.push(await rawTcpOnce(tcpPort, totalMiB));
      for (const s of setups) s.results.push(await libp2pOnce(s.sender, s.rx.addr, totalMiB));
    }
    const m = (rs: Run[], key: keyof Run) => median(rs.map((r) => r[key])).toFixed(0).padStart(4);
    const cpu = (rs: Run[]) => `cpu µs/MiB sender ${m(rs, 'senderCpu')} (main ${m(rs, 'senderMain')}) receiver ${m(rs, 'receiverCpu')} (main ${m(rs, 'receiverMain')})`;
    const list = (rs: Run[]) => rs.map((r) => r.mibps.toFixed(0)).join(' ');
    const tcpMedian = withTcp ? median(tcp.map((r) => r.mibps)) : NaN;
    if (withTcp) console.log(`  raw TCP                   ${fmt(tcpMedian)}   (reference)   ${cpu(tcp)}   runs ${list(tcp)}`);
    for (const s of setups) {
      const mibps = median(s.results.map((r) => r.mibps));
      // Each run's ratio to the raw TCP run just before it: less swayed by load that comes and goes.
      const paired = withTcp ? `  paired ${median(s.results.map((r, i) => r.mibps / tcp[i]!.mibps)).toFixed(3)}` : '';
      const ratio = withTcp ? `ratio ${(mibps / tcpMedian).toFixed(3)}${paired}` : '';
      console.log(`  libp2p yamux ${s.w.label.padEnd(12)} ${fmt(mibps)}   ${ratio}   ${cpu(s.results)}   runs ${list(s.results)}`);
    }
  } finally {
    for (const s of setups) {
      await s.sender.stop();
      await s.rx.stop();
    }
  }
}

async function main(): Promise<void> {
  const rxIndex = process.argv.indexOf('--receiver');
  if (rxIndex >= 0) {
    const rx = await startReceiver(JSON.parse(process.argv[rxIndex + 1]!) as WindowConfig);
    process.stdout.write(JSON.stringify({ tcpPort: rx.tcpPort, addr: rx.addr }) + '\n');
    process.stdin.resume();
    process.stdin.once('end', () => void rx.stop().then(() => process.exit(0)));
    return;
  }
  console.log(`one stream, ${totalMiB} MiB per run, 1 MiB frames, median of ${runs} runs, Node ${process.version}`);
  if (only !== 'child') await measure(false);
  if (only !== 'inproc') await measure(true);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
