import { describe, expect, it } from 'vitest';
import { EXEC_STATUSES, OCF_RCS, lsbExitToOcf, ocfExitToOcf, ocfRcName, stonithExitToOcf } from './codes.js';

describe('OCF rc table', () => {
  it('names every OCF 1.1 and Pacemaker degraded code, once', () => {
    // One table feeds the CLI, results and docs; a gap or duplicate would mislabel a result.
    expect(OCF_RCS.map((r) => r.rc)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 190, 191]);
    expect(new Set(OCF_RCS.map((r) => r.name)).size).toBe(OCF_RCS.length);
    expect(ocfRcName(8)).toBe('OCF_RUNNING_PROMOTED');
    expect(ocfRcName(191)).toBe('OCF_DEGRADED_PROMOTED');
    expect(ocfRcName(42)).toBe('unknown(42)');
  });

  it('gives each exec status the op-status number Pacemaker writes', () => {
    // The controller writes op-status into the CIB; Pacemaker tools must read the same meaning.
    expect(Object.fromEntries(EXEC_STATUSES.map((s) => [s.status, s.pcmkOpStatus]))).toEqual({
      done: 0, cancelled: 1, 'timed-out': 2, error: 4, 'not-installed': 7,
    });
  });

  it('maps OCF exit codes outside the table to OCF_ERR_GENERIC', () => {
    // Like Pacemaker's services__ocf2ocf.
    const cases: [number, number][] = [[0, 0], [7, 7], [9, 9], [10, 1], [127, 1], [190, 190], [191, 191], [192, 1], [-1, 1]];
    for (const [exit, rc] of cases) expect([exit, ocfExitToOcf(exit)]).toEqual([exit, rc]);
  });
});

describe('lsbExitToOcf', () => {
  // [action, LSB exit code, OCF rc]: LSB 3.0 init script actions and status, as Pacemaker maps them.
  const table: [string, number, number][] = [
    ['start', 0, 0], ['start', 1, 1], ['start', 2, 2], ['start', 3, 3], ['start', 4, 4],
    ['start', 5, 5], ['start', 6, 6], ['start', 7, 7], ['start', 8, 1], ['start', 150, 1],
    ['stop', 0, 0], ['stop', 1, 1], ['stop', 7, 7], ['restart', 3, 3], ['force-reload', 2, 2],
    ['status', 0, 0], ['status', 1, 7], ['status', 2, 7], ['status', 3, 7], ['status', 4, 1],
    ['status', 5, 1], ['status', 150, 5], ['status', 151, 4], ['status', 200, 1],
    ['monitor', 0, 0], ['monitor', 3, 7], ['monitor', 1, 7], ['monitor', 4, 1],
  ];
  it('maps action codes as OCF and status codes 1-3 to not running, 4 to error', () => {
    // status 3 (stopped) read as an action code would be "unimplemented": a stopped service would look broken.
    for (const [action, exit, rc] of table) expect([action, exit, lsbExitToOcf(action, exit)]).toEqual([action, exit, rc]);
  });
});

describe('stonithExitToOcf', () => {
  it('reads 0 as success, status 2 as off, anything else as failure', () => {
    // Fence agents answer status with 0 (on) or 2 (off); 2 from an on/off action is a failure.
    const table: [string, number, number][] = [['reboot', 0, 0], ['reboot', 1, 1], ['off', 2, 1], ['status', 2, 7], ['monitor', 2, 7], ['status', 1, 1], ['list', 0, 0]];
    for (const [action, exit, rc] of table) expect([action, exit, stonithExitToOcf(action, exit)]).toEqual([action, exit, rc]);
  });
});
