/**
 * The CLI side of messaging: `paceline keygen` and the formatting of `paceline messaging status`.
 * Uses a temporary directory; no network.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { formatStatus, readStatusFile, registerMessagingCommands } from '../../packages/cli/src/commands/messaging.js';
import { readAuthKey, type RuntimeStatus } from '../../packages/messaging/src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'paceline-cli-msg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): number {
  const program = new Command().exitOverride();
  registerMessagingCommands(program);
  process.exitCode = 0;
  program.parse(['node', 'paceline', ...args]);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return code;
}

describe('paceline keygen', () => {
  // The key is 256 random bytes, owner read-only, and is never silently overwritten (that would split a cluster).
  it('writes a 0400 key of 256 bytes and refuses to overwrite without --force', () => {
    const path = join(dir, 'authkey');
    expect(run(['keygen', '-k', path])).toBe(0);
    const st = statSync(path);
    expect(st.mode & 0o777).toBe(0o400);
    expect(st.size).toBe(256);
    const first = readFileSync(path);
    expect(run(['keygen', '-k', path])).toBe(2);
    expect(readFileSync(path).equals(first)).toBe(true);
    expect(readAuthKey(path).ok).toBe(true);
  });

  // A key readable by others is refused when loaded: anyone who reads it can join or forge packets.
  it('refuses to load a key readable by group or others', () => {
    const path = join(dir, 'loose');
    writeFileSync(path, Buffer.alloc(64, 1), { mode: 0o644 });
    const r = readAuthKey(path);
    expect(r.ok ? 'ok' : r.error.code).toBe('authkey-permissions');
  });
});

describe('paceline messaging status', () => {
  const status: RuntimeStatus = {
    clusterName: 'prod',
    nodeId: 1,
    incarnation: 1700000000000,
    pid: 42,
    startedAt: '2026-01-01T00:00:00.000Z',
    writtenAt: '2026-01-01T00:00:01.000Z',
    crypto: { mode: 'aes-256-gcm', encrypt: true },
    links: [{ linkId: 0, transport: 'udpu', local: '10.0.0.1:5405', sendErrors: 0, peers: [{ nodeId: 2, connected: true, silentMs: 12 }, { nodeId: 3, connected: false, silentMs: undefined }] }],
    view: { id: { epoch: 4, leader: 1, leaderIncarnation: 1700000000000 }, members: [{ nodeId: 1, incarnation: 1 }, { nodeId: 2, incarnation: 2 }] },
    frozen: false,
    quorum: { quorate: true, totalVotes: 2, expectedVotes: 3, quorumVotes: 2, waitForAll: false, waitForAllMet: true, tieBroken: false },
    peers: [],
    groups: ['crmd'],
    nodelist: { version: 0, nodes: [] },
    order: { prefixSeq: 0, deliveredSeq: 0, stableSeq: 0, outbox: 0 },
    counters: {
      heartbeatsSent: 1, roundsPaced: 1, lateHeartbeats: 0, probesSent: 0, peersLost: 1, proposals: 1, viewsInstalled: 2, fragmentsSubmitted: 0, fragmentsOrdered: 0,
      retransmittedEntries: 3, retransmittedSubmits: 0, messagesDelivered: 9, duplicatesSuppressed: 0, oversizedDropped: 0, staleIgnored: 0,
    },
    wire: { sentPackets: 10, sentBytes: 100, receivedPackets: 12, receivedBytes: 120, dropped: { 'bad-mac': 5 } as RuntimeStatus['wire']['dropped'] },
  };

  // The operator sees links, members, view, quorum and why packets were dropped, like corosync-cfgtool and corosync-quorumtool.
  it('shows links, members, view, quorum and drop counters', () => {
    const text = formatStatus(status, 500);
    expect(text).toContain('link 0 (udpu) 10.0.0.1:5405');
    expect(text).toContain('node 3: disconnected (never heard)');
    expect(text).toContain('view 4@1');
    expect(text).toContain('members: 1 2');
    expect(text).toContain('quorate: yes');
    expect(text).toContain('total votes 2, expected votes 3, quorum 2');
    expect(text).toContain('bad-mac 5');
    expect(text).not.toContain('WARNING');
    expect(formatStatus(status, 60_000)).toContain('WARNING: status is 60 s old');
  });

  // No status file means no running node: a distinct error, exit code 1.
  it('reports a missing status file with exit code 1', () => {
    expect(readStatusFile(join(dir, 'nope.json'), Date.now())).toMatchObject({ ok: false, code: 'status-missing' });
    expect(run(['messaging', 'status', '--status-file', join(dir, 'nope.json')])).toBe(1);
  });
});

describe('node incarnation', () => {
  // A restarted node must come back with a higher incarnation even if the clock stepped back,
  // or its peers would ignore it as its own stale past.
  it('keeps incarnations growing across restarts when the clock steps back', async () => {
    const { nextIncarnation } = await import('../../packages/messaging/src/index.js');
    const path = join(dir, 'incarnation');
    const first = nextIncarnation(path, 1_000_000);
    const second = nextIncarnation(path, 500_000);
    expect(first).toBe(1_000_000);
    expect(second).toBe(1_000_001);
    expect(nextIncarnation(path, 2_000_000)).toBe(2_000_000);
  });
});
