import { describe, expect, it } from 'vitest';
import { cibError, cibErrors } from './errors.js';

describe('CIB error table', () => {
  // The CLI exits with these numbers; they must be Pacemaker's, as cibadmin 2.1.5 reports them.
  it.each([
    ['no-such-object', -6, 105, 'No such device or address'],
    ['already-exists', -17, 108, 'File exists'],
    ['old-data', -205, 103, 'Update was older than existing configuration'],
    ['schema-validation', -203, 78, 'Update does not conform to the configured schema'],
    ['diff-failed', -206, 1, 'Application of update diff failed'],
    ['diff-resync', -207, 1, 'Application of update diff failed, requesting full refresh'],
    ['protocol-not-supported', -93, 76, 'Protocol not supported'],
    ['invalid-argument', -22, 70, 'Invalid argument'],
    ['not-unique', -76, 109, 'Name not unique on network'],
  ] as const)('%s is legacy %i, exit %i, "%s"', (code, legacyRc, exitCode, message) => {
    expect(cibErrors[code]).toMatchObject({ legacyRc, exitCode, message });
  });

  // Error values carry the table's numbers plus the detail that names the problem.
  it('builds an error value from the table', () => {
    expect(cibError('old-data', 'epoch went backwards')).toEqual({
      code: 'old-data',
      legacyRc: -205,
      exitCode: 103,
      message: 'Update was older than existing configuration',
      detail: 'epoch went backwards',
    });
  });

  // Legacy codes are negative and exit codes fit a process status, for every entry.
  it('keeps every entry in range', () => {
    for (const [code, info] of Object.entries(cibErrors)) {
      expect(info.legacyRc, code).toBeLessThan(0);
      expect(info.exitCode, code).toBeGreaterThan(0);
      expect(info.exitCode, code).toBeLessThan(256);
      expect(info.message.length, code).toBeGreaterThan(0);
    }
  });
});
