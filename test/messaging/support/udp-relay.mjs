// A userspace impairment relay for the jitter soak: one UDP port per destination node; every
// datagram is dropped with probability LOSS, otherwise forwarded after a uniform random delay in
// [DELAY_MIN_MS, DELAY_MAX_MS] (20 ms +- 20 ms by default). Real packets through the real kernel
// on both sides. Usage: node udp-relay.mjs <bindHost> <port>=<host:port>... ; prints "ready".
import dgram from 'node:dgram';

const LOSS = Number(process.env.LOSS ?? 0.02);
const DELAY_MIN_MS = Number(process.env.DELAY_MIN_MS ?? 0);
const DELAY_MAX_MS = Number(process.env.DELAY_MAX_MS ?? 40);
const [bindHost, ...routes] = process.argv.slice(2);
let forwarded = 0;
let dropped = 0;
let ready = 0;
for (const r of routes) {
  const [port, dest] = r.split('=');
  const [dhost, dport] = dest.split(':');
  const s = dgram.createSocket('udp4');
  s.on('message', (buf) => {
    if (Math.random() < LOSS) {
      dropped += 1;
      return;
    }
    const delay = DELAY_MIN_MS + Math.random() * (DELAY_MAX_MS - DELAY_MIN_MS);
    setTimeout(() => {
      forwarded += 1;
      s.send(buf, Number(dport), dhost);
    }, delay);
  });
  s.bind(Number(port), bindHost, () => {
    ready += 1;
    if (ready === routes.length) console.log('ready');
  });
}
process.on('SIGTERM', () => {
  console.log(JSON.stringify({ forwarded, dropped }));
  process.exit(0);
});
