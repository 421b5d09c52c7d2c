/**
 * `paceline keygen` (like corosync-keygen) and `paceline messaging status` (like
 * `corosync-cfgtool -s` plus `corosync-quorumtool`).
 *
 * Exit codes: 0 success; 1 the status file is missing, unreadable or stale (node not running);
 * 2 the key file exists (without --force) or cannot be written.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import {
  AUTHKEY_BYTES_DEFAULT,
  AUTHKEY_PATH_DEFAULT,
  DROP_REASONS,
  STATUS_PATH_DEFAULT,
  describeKeyError,
  writeAuthKey,
  type RuntimeStatus,
} from '@paceline/messaging';

export const MESSAGING_EXIT = { ok: 0, notRunning: 1, keyError: 2 } as const;
/** A status file older than this means the node stopped writing it (it writes every second). */
export const STATUS_STALE_MS = 5000;

export type StatusRead = { ok: true; status: RuntimeStatus; ageMs: number } | { ok: false; code: 'status-missing' | 'status-unreadable'; detail: string };

export function readStatusFile(path: string, nowMs: number): StatusRead {
  try {
    const st = statSync(path);
    const status = JSON.parse(readFileSync(path, 'utf8')) as RuntimeStatus;
    return { ok: true, status, ageMs: nowMs - st.mtimeMs };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, code: e.code === 'ENOENT' ? 'status-missing' : 'status-unreadable', detail: e.message };
  }
}

/** Human-readable status: node, links, membership, quorum, counters. */
export function formatStatus(s: RuntimeStatus, ageMs: number): string {
  const lines: string[] = [];
  lines.push(`Cluster ${s.clusterName}, local node ${s.nodeId} (incarnation ${s.incarnation}, pid ${s.pid})`);
  if (ageMs > STATUS_STALE_MS) lines.push(`WARNING: status is ${Math.round(ageMs / 1000)} s old; is the node running?`);
  lines.push(`Crypto: ${s.crypto.mode}${s.crypto.encrypt ? ' with encryption' : ''}`);
  lines.push('', 'Links:');
  for (const l of s.links) {
    lines.push(`  link ${l.linkId} (${l.transport}) ${l.local}  send errors ${l.sendErrors}`);
    for (const p of l.peers) lines.push(`    node ${p.nodeId}: ${p.connected ? 'connected' : 'disconnected'}${p.silentMs === undefined ? ' (never heard)' : ` (heard ${p.silentMs} ms ago)`}`);
  }
  lines.push('', 'Membership:');
  if (s.view === undefined) lines.push('  no view installed yet');
  else {
    lines.push(`  view ${s.view.id.epoch}@${s.view.id.leader}${s.frozen ? ' (view change in progress)' : ''}`);
    lines.push(`  members: ${s.view.members.map((m) => m.nodeId).join(' ')}`);
  }
  lines.push('', 'Quorum:');
  const q = s.quorum;
  if (q === undefined) lines.push('  not computed yet');
  else {
    lines.push(`  quorate: ${q.quorate ? 'yes' : 'no'}${q.tieBroken ? ' (auto_tie_breaker)' : ''}`);
    lines.push(`  total votes ${q.totalVotes}, expected votes ${q.expectedVotes}, quorum ${q.quorumVotes}`);
    if (q.waitForAll) lines.push(`  wait_for_all: ${q.waitForAllMet ? 'met' : 'waiting for all nodes'}`);
  }
  const c = s.counters;
  const w = s.wire;
  lines.push('', 'Counters:');
  lines.push(`  packets sent ${w.sentPackets}, received ${w.receivedPackets}`);
  lines.push(`  retransmitted entries ${c.retransmittedEntries}, submits ${c.retransmittedSubmits}`);
  lines.push(`  messages delivered ${c.messagesDelivered}, late heartbeats ${c.lateHeartbeats}, peers lost ${c.peersLost}, views ${c.viewsInstalled}`);
  const drops = DROP_REASONS.filter((r) => (w.dropped[r] ?? 0) > 0).map((r) => `${r} ${w.dropped[r]}`);
  lines.push(`  dropped: ${drops.length > 0 ? drops.join(', ') : 'none'}`);
  return `${lines.join('\n')}\n`;
}

export function registerMessagingCommands(program: Command): void {
  program
    .command('keygen')
    .description('write a new cluster authkey (random bytes, mode 0400), like corosync-keygen')
    .option('-k, --key-file <path>', 'where to write the key', AUTHKEY_PATH_DEFAULT)
    .option('-s, --size <bytes>', 'key size in bytes (32..4096)', String(AUTHKEY_BYTES_DEFAULT))
    .option('-f, --force', 'replace an existing key file')
    .action((opts: { keyFile: string; size: string; force?: boolean }) => {
      const r = writeAuthKey(opts.keyFile, { bytes: Number(opts.size), force: opts.force ?? false });
      if (!r.ok) {
        process.stderr.write(`paceline keygen: ${describeKeyError(r.error)}\n`);
        process.exitCode = MESSAGING_EXIT.keyError;
        return;
      }
      process.stdout.write(`Wrote ${r.value.bytes}-byte authkey to ${opts.keyFile} (mode 0400). Copy it to every node of the cluster.\n`);
    });

  const messaging = program.command('messaging').description('the cluster messaging layer');
  messaging
    .command('status')
    .description('links, members, view, quorum and counters of the local node')
    .option('--status-file <path>', 'status file the node writes every second', STATUS_PATH_DEFAULT)
    .option('--json', 'print the raw status as JSON')
    .action((opts: { statusFile: string; json?: boolean }) => {
      const r = readStatusFile(opts.statusFile, Date.now());
      if (!r.ok) {
        process.stderr.write(`paceline messaging status: ${r.code}: ${r.detail} (is the node running?)\n`);
        process.exitCode = MESSAGING_EXIT.notRunning;
        return;
      }
      process.stdout.write(opts.json ? `${JSON.stringify(r.status, null, 2)}\n` : formatStatus(r.status, r.ageMs));
      if (r.ageMs > STATUS_STALE_MS) process.exitCode = MESSAGING_EXIT.notRunning;
    });
}
