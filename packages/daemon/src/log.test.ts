import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Logger, parseLogTarget, type LogRecord } from './log.js';

const dir = mkdtempSync(join(tmpdir(), 'paceline-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const lines = (path: string): LogRecord[] => readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as LogRecord);

describe('Logger', () => {
  // Operators and the lab parse these lines: each must be one JSON object with a ms timestamp.
  it('writes one JSON object per line with millisecond UTC timestamps', () => {
    const path = join(dir, 'sub/a.log');
    let now = Date.UTC(2026, 10, 21, 23, 10, 2, 123);
    const log = new Logger({ target: { kind: 'file', path }, node: 'node1', nowMs: () => now });
    log.event('view', { members: [1, 2], viewId: '3.1' });
    now += 1;
    log.event('dc', { dc: 'node1' }, 'warn');
    log.close();
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')[0]).toBe('{"ts":"2026-11-21T23:10:02.123Z","level":"info","node":"node1","event":"view","members":[1,2],"viewId":"3.1"}');
    for (const r of lines(path)) expect(r.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(lines(path).map((r) => [r.event, r.level, r.ts])).toEqual([['view', 'info', '2026-11-21T23:10:02.123Z'], ['dc', 'warn', '2026-11-21T23:10:02.124Z']]);
  });

  it('filters by level and can change it at run time', () => {
    const path = join(dir, 'b.log');
    const log = new Logger({ target: { kind: 'file', path }, level: 'warn' });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    log.setLevel('debug');
    log.debug('d2');
    log.close();
    expect(lines(path).map((r) => r.event)).toEqual(['w', 'e', 'd2']);
  });

  // A field must not overwrite the line's own ts/level/event; errors and cycles must not throw.
  it('keeps reserved fields, serialises errors, bigints and cycles', () => {
    const path = join(dir, 'c.log');
    const log = new Logger({ target: { kind: 'file', path } });
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    const err = Object.assign(new Error('boom'), { code: 'EBOOM' });
    log.event('x', { level: 'fake', event: 'fake', err, n: 10n, cyc });
    log.close();
    const [r] = lines(path);
    expect(r).toMatchObject({ level: 'info', event: 'x', 'field.level': 'fake', 'field.event': 'fake', n: '10', cyc: { a: 1, self: '[circular]' } });
    expect(r!.err).toMatchObject({ message: 'boom', code: 'EBOOM' });
  });

  // The API's `log` topic replays recent lines and streams new ones.
  it('keeps the last N lines and calls listeners', () => {
    const log = new Logger({ target: { kind: 'file', path: join(dir, 'd.log') }, historyLinesMax: 3 });
    const seen: string[] = [];
    const off = log.onLine((_line, rec) => seen.push(rec.event));
    for (let i = 0; i < 5; i++) log.info(`e${i}`);
    off();
    log.info('after');
    expect(seen).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
    expect(log.recent().map((l) => (JSON.parse(l) as LogRecord).event)).toEqual(['e3', 'e4', 'after']);
    expect(log.recent(1)).toHaveLength(1);
    log.close();
  });

  // logrotate moves the file, then sends SIGHUP: new lines must go to a new file at the path.
  it('appends, and reopens the file after it was moved', () => {
    const path = join(dir, 'e.log');
    const a = new Logger({ target: { kind: 'file', path } });
    a.info('one');
    a.close();
    const b = new Logger({ target: { kind: 'file', path } });
    b.info('two');
    renameSync(path, `${path}.1`);
    b.info('three');
    b.reopen();
    b.info('four');
    b.close();
    expect(lines(`${path}.1`).map((r) => r.event)).toEqual(['one', 'two', 'three']);
    expect(lines(path).map((r) => r.event)).toEqual(['four']);
  });

  // logrotate's postrotate sends SIGHUP (ExecReload in paceline.service): the handler reopens.
  it('reopens on SIGHUP once installed', async () => {
    const path = join(dir, 'f.log');
    const log = new Logger({ target: { kind: 'file', path } });
    const off = log.reopenOnSighup();
    log.info('before');
    renameSync(path, `${path}.1`);
    process.kill(process.pid, 'SIGHUP');
    await new Promise((r) => setTimeout(r, 50));
    off();
    log.info('after');
    log.close();
    expect(lines(`${path}.1`).map((r) => r.event)).toEqual(['before']);
    expect(lines(path).map((r) => r.event)).toEqual(['log-reopened', 'after']);
  });

  it('parses targets', () => {
    expect(parseLogTarget('stderr')).toEqual({ kind: 'stderr' });
    expect(parseLogTarget('file:/var/log/p.log')).toEqual({ kind: 'file', path: '/var/log/p.log' });
    expect(parseLogTarget('file:')).toBeUndefined();
    expect(parseLogTarget('syslog')).toBeUndefined();
  });
});
