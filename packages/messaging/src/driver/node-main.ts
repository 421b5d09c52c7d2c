/**
 * A standalone messaging node process, for the real-process suites, the benchmark and manual
 * trials: `node dist/driver/node-main.js --config node.json [--join group]...`.
 *
 * stdout: one JSON object per line: {"ev":"started"}, {"ev":"view",...}, {"ev":"group",...},
 * {"ev":"warning",...}, replies to commands. stdin: one JSON command per line:
 *   {"op":"send","group":"g","size":1024,"count":1000}  sends count messages (backs off on flow control)
 *   {"op":"count"}   messages and bytes delivered so far
 *   {"op":"status"}  the status snapshot
 *   {"op":"stop"}
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describeKeyError, readAuthKey } from '../keyfile.js';
import { ClusterNode } from './cluster-node.js';
import { parseFileConfig, type MessagingFileConfig } from './file-config.js';

function out(obj: object): void {
  process.stdout.write(`${JSON.stringify({ ...obj, atMs: Date.now() })}\n`);
}

function argValues(name: string): string[] {
  const vals: string[] = [];
  process.argv.forEach((a, i) => {
    if (a === name && process.argv[i + 1] !== undefined) vals.push(process.argv[i + 1]!);
  });
  return vals;
}

/** Sends `count` messages keeping up to 64 requests in flight; waits for 'drain' while the send queue is full. */
async function floodSend(node: ClusterNode, group: string, size: number, count: number): Promise<void> {
  const data = Buffer.alloc(size, 0x61);
  let sent = 0;
  let failed: string | undefined;
  const worker = async (): Promise<void> => {
    while (sent < count && failed === undefined) {
      sent += 1;
      const r = await node.send(group, data);
      if (r.ok) continue;
      sent -= 1;
      if (r.code === 'send-queue-full') await drained;
      else failed = r.code;
    }
  };
  // One listener for the whole flood (a listener per send would leak).
  let wake = (): void => {};
  let drained = new Promise<void>((r) => (wake = r));
  const onDrain = (): void => {
    wake();
    drained = new Promise<void>((r) => (wake = r));
  };
  node.on('drain', onDrain);
  try {
    await Promise.all(Array.from({ length: 64 }, worker));
  } finally {
    node.off('drain', onDrain);
  }
  out(failed === undefined ? { ev: 'sent', count: sent, size } : { ev: 'send-error', code: failed });
}

async function main(): Promise<void> {
  const configPath = argValues('--config')[0];
  if (configPath === undefined) throw new Error('usage: node-main --config node.json [--join group]...');
  const file = JSON.parse(readFileSync(configPath, 'utf8')) as MessagingFileConfig;
  const { config, diagnostics } = parseFileConfig(file);
  for (const d of diagnostics) out({ ev: 'diagnostic', ...d });
  if (config === undefined) process.exit(2);
  const key = readAuthKey(config.authkeyPath);
  if (!key.ok) {
    out({ ev: 'fatal', message: describeKeyError(key.error) });
    process.exit(2);
  }
  const node = await ClusterNode.start({ config, authKey: key.value });
  let delivered = 0;
  let deliveredBytes = 0;
  node.on('view', (e) =>
    out({ ev: 'view', epoch: e.view.id.epoch, leader: e.view.id.leader, members: e.view.members.map((m) => m.nodeId), quorate: e.view.quorum.quorate }),
  );
  node.on('group', (e) => out({ ev: 'group', group: e.group, members: e.members }));
  node.on('late-heartbeat', (e) => out({ ev: 'late-heartbeat', nodeId: e.nodeId, silentMs: Math.round(e.silentMs) }));
  node.on('peer-lost', (e) => out({ ev: 'peer-lost', nodeId: e.nodeId }));
  node.on('fatal', (err) => {
    out({ ev: 'fatal', message: err.message });
    process.exit(70);
  });
  node.on('message', (e) => {
    delivered += 1;
    deliveredBytes += e.data.length;
  });
  for (const g of argValues('--join')) await node.joinGroup(g);
  out({ ev: 'started', nodeId: config.nodeId, incarnation: node.incarnation, pid: process.pid });
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    void (async () => {
      const cmd = JSON.parse(line) as { op: string; group?: string; size?: number; count?: number };
      if (cmd.op === 'send') await floodSend(node, cmd.group ?? 'bench', cmd.size ?? 64, cmd.count ?? 1);
      else if (cmd.op === 'count') out({ ev: 'count', messages: delivered, bytes: deliveredBytes });
      else if (cmd.op === 'status') out({ ev: 'status', status: await node.status() });
      else if (cmd.op === 'stop') {
        await node.stop();
        process.exit(0);
      }
    })();
  });
}

main().catch((err: unknown) => {
  out({ ev: 'fatal', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
