/**
 * `cluster init|join|token` refuse bad input before anything happens: a clear message, the exit
 * code the help names, and no file written (the paths with sockets are in
 * test/cluster/bootstrap.it.test.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLUSTER_EXIT, runClusterWords } from './cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'paceline-cluster-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(words: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await runClusterWords(words, { out: (l) => void lines.push(l), err: (l) => void lines.push(l) });
  return { code, text: lines.join('\n') };
}

const files = (sub: string): string[] => ['--config', join(dir, sub, 'paceline.json'), '--data-dir', join(dir, sub, 'data'), '--socket', join(dir, sub, 'api.sock'), '--no-start'];

describe('cluster bootstrap input', () => {
  // Each mistake is named with the option it came from, and nothing lands on disk.
  it('refuses unknown options, bad addresses, bad durations and clashing addresses, writing nothing', async () => {
    expect(await run(['init', '--bogus'])).toMatchObject({ code: CLUSTER_EXIT.usage, text: expect.stringMatching(/unknown option '--bogus'/) });
    expect(await run(['init', '--node-name', 'a', '-N', 'a=127.0.0.1', '-N', 'b=node-b.example', ...files('i1')])).toMatchObject({ code: CLUSTER_EXIT.usage, text: expect.stringMatching(/--node b= "node-b.example": expected an IP address/) });
    expect(await run(['init', '--node-name', 'a', '-N', 'a=127.0.0.1', '--ttl', 'forever', ...files('i1')])).toMatchObject({ code: CLUSTER_EXIT.usage, text: expect.stringMatching(/--ttl forever/) });
    expect(await run(['init', '--node-name', 'a', '-N', 'a=127.0.0.1', '-N', 'b=127.0.0.1', ...files('i1')])).toMatchObject({ code: CLUSTER_EXIT.usage, text: expect.stringMatching(/same address 127\.0\.0\.1:5405/) });
    expect(await run(['init', '--node-name', 'a', '-N', 'a=127.0.0.1', '--bind', '127.0.0.2', ...files('i1')])).toMatchObject({ code: CLUSTER_EXIT.usage, text: expect.stringMatching(/two addresses/) });
    expect(await run(['init', '--node-name', 'a', '-N', 'a=192.0.2.254', ...files('i1')])).toMatchObject({ code: CLUSTER_EXIT.usage, text: expect.stringMatching(/192\.0\.2\.254 is not an address of this machine/) });
    expect(await run(['init', '--node-name', 'a', '-N', 'a=127.0.0.1', '--port', '0', ...files('i1')])).toMatchObject({ code: CLUSTER_EXIT.usage, text: expect.stringMatching(/--port 0/) });
    expect(await run(['init', '--node-name', 'a b', '-N', 'a b=127.0.0.1', ...files('i1')])).toMatchObject({ code: CLUSTER_EXIT.usage, text: expect.stringMatching(/not a valid node name/) });
    expect(existsSync(join(dir, 'i1'))).toBe(false);
  });

  // The node is started through systemd, which reads the default path only: say so before writing.
  it('refuses to start a node whose configuration systemd would not read', async () => {
    const r = await run(['init', '--node-name', 'a', '-N', 'a=127.0.0.1', '--config', join(dir, 'i2', 'paceline.json')]);
    expect(r).toMatchObject({ code: CLUSTER_EXIT.usage, text: expect.stringMatching(/pass --no-start and run `paceline node start --config/) });
    expect(existsSync(join(dir, 'i2'))).toBe(false);
  });

  // A join with a missing, malformed or expired token, or onto a configured node, asks nobody.
  it('refuses a join without a usable token or onto a configured node, before contacting anyone', async () => {
    const secret = 'A'.repeat(43);
    expect(await run(['join', '--token', `pl1.9999999999.${secret}`, ...files('j1')])).toMatchObject({ code: CLUSTER_EXIT.usage, text: expect.stringMatching(/required option '-c, --from/) });
    expect(await run(['join', '-c', '127.0.0.1:9', ...files('j1')])).toMatchObject({ code: CLUSTER_EXIT.usage, text: expect.stringMatching(/--token TOKEN \(or \$PACELINE_JOIN_TOKEN\) is required/) });
    expect(await run(['join', '-c', '127.0.0.1:9', '--token', 'secret', ...files('j1')])).toMatchObject({ code: CLUSTER_EXIT.usage, text: expect.stringMatching(/not a join token/) });
    expect(await run(['join', '-c', '127.0.0.1:9', '--token', `pl1.1000000000.${secret}`, ...files('j1')])).toMatchObject({ code: CLUSTER_EXIT.noPerm, text: expect.stringMatching(/expired at 2001-09-09T01:46:40.000Z/) });
    const configured = join(dir, 'j2');
    mkdirSync(configured);
    writeFileSync(join(configured, 'paceline.json'), '{"kept": true}\n');
    expect(await run(['join', '-c', '127.0.0.1:9', '--token', `pl1.9999999999.${secret}`, ...files('j2')])).toMatchObject({ code: CLUSTER_EXIT.cantCreate, text: expect.stringMatching(/paceline\.json exists: this node is configured already \(--force/) });
    expect(readdirSync(configured)).toEqual(['paceline.json']);
    expect(readFileSync(join(configured, 'paceline.json'), 'utf8')).toBe('{"kept": true}\n');
    expect(existsSync(join(dir, 'j1'))).toBe(false);
  });

  // The options of a node the cluster does not list yet are checked before anyone is asked.
  it('refuses a bad --node-id, a --bind address of another machine or a busy port, and remove without a node', async () => {
    const secret = 'A'.repeat(43);
    const join1 = ['join', '-c', '127.0.0.1:9', '--token', `pl1.9999999999.${secret}`, ...files('j3')];
    expect(await run([...join1, '--node-id', 'x'])).toMatchObject({ code: CLUSTER_EXIT.usage, text: expect.stringMatching(/--node-id x: expected a node id/) });
    expect(await run([...join1, '--bind', '192.0.2.254'])).toMatchObject({ code: CLUSTER_EXIT.usage, text: expect.stringMatching(/--bind: 192\.0\.2\.254 is not an address of this machine/) });
    expect(await run([...join1, '--bind', 'node4.example'])).toMatchObject({ code: CLUSTER_EXIT.usage, text: expect.stringMatching(/--bind "node4.example": expected an IP address/) });
    const { createSocket } = await import('node:dgram');
    const busy = createSocket('udp4');
    await new Promise<void>((r) => busy.bind(0, '127.0.0.1', () => r()));
    try {
      expect(await run([...join1, '--bind', `127.0.0.1:${busy.address().port}`])).toMatchObject({ code: CLUSTER_EXIT.usage, text: expect.stringMatching(/--bind: cannot bind 127\.0\.0\.1:\d+\/udp: the port is in use/) });
    } finally {
      busy.close();
    }
    expect(existsSync(join(dir, 'j3'))).toBe(false);
    expect(await run(['remove'])).toMatchObject({ code: CLUSTER_EXIT.usage, text: expect.stringMatching(/name the node to remove/) });
    expect(await run(['remove', 'node4', '--socket', join(dir, 'no.sock')])).toMatchObject({ code: CLUSTER_EXIT.unavailable, text: expect.stringMatching(/cannot reach the node \(API socket .*no\.sock\)/) });
  });

  // token on a configuration that does not load says why.
  it('token names an unreadable configuration', async () => {
    expect(await run(['token', '--config', join(dir, 'none.json')])).toMatchObject({ code: CLUSTER_EXIT.noInput, text: expect.stringMatching(/none\.json does not load:\nerror: \(file\): cannot read/) });
  });
});
