// A userspace impairment relay (the jitter soak; the lab's net-delay fault): one UDP port per (sender, destination) pair;
// every datagram is dropped with probability LOSS (default 0: the soak drops in the kernel with
// nftables), otherwise forwarded after a uniform random delay in [DELAY_MIN_MS, DELAY_MAX_MS]
// (20 ms +- 20 ms by default). Real packets through the real kernel on both sides.
// Usage: node udp-relay.mjs <bindHost> <port>=<host:port>... ; prints "ready" once bound, and on
// SIGTERM one JSON line: {"forwarded","dropped","delayMeanMs","delayMaxMs"}, the delays being the
// ones measured between receipt and send (timer lateness included).
import dgram from 'node:dgram';

const LOSS = Number(process.env.LOSS ?? 0);
const DELAY_MIN_MS = Number(process.env.DELAY_MIN_MS ?? 0);
const DELAY_MAX_MS = Number(process.env.DELAY_MAX_MS ?? 40);
const [bindHost, ...routes] = process.argv.slice(2);
if (!bindHost || routes.length === 0 || !(LOSS >= 0 && LOSS < 1) || !(DELAY_MIN_MS >= 0 && DELAY_MAX_MS >= DELAY_MIN_MS)) {
  console.error('usage: [LOSS=0..1) [DELAY_MIN_MS=0] [DELAY_MAX_MS=40] node udp-relay.mjs <bindHost> <port>=<host:port>...');
  process.exit(2);
}
let forwarded = 0;
let dropped = 0;
let delaySumMs = 0;
let delayMaxMs = 0;
let ready = 0;
for (const r of routes) {
  const [port, dest] = r.split('=');
  const [dhost, dport] = (dest ?? '').split(':');
  if (!port || !dhost || !dport) {
    console.error(`udp-relay: bad route ${r} (want <port>=<host:port>)`);
    process.exit(2);
  }
  const s = dgram.createSocket('udp4');
  s.on('message', (buf) => {
    if (Math.random() < LOSS) {
      dropped += 1;
      return;
    }
    const at = performance.now();
    setTimeout(() => {
      const took = performance.now() - at;
      delaySumMs += took;
      if (took > delayMaxMs) delayMaxMs = took;
      forwarded += 1;
      s.send(buf, Number(dport), dhost);
    }, DELAY_MIN_MS + Math.random() * (DELAY_MAX_MS - DELAY_MIN_MS));
  });
  s.bind(Number(port), bindHost, () => {
    ready += 1;
    if (ready === routes.length) console.log('ready');
  });
}
process.on('SIGTERM', () => {
  const delayMeanMs = forwarded > 0 ? delaySumMs / forwarded : 0;
  console.log(JSON.stringify({ forwarded, dropped, delayMeanMs: Math.round(delayMeanMs * 10) / 10, delayMaxMs: Math.round(delayMaxMs) }));
  process.exit(0);
});
