/**
 * Pacemaker's error codes for CIB operations, as one table.
 *
 * Each entry carries the stable string code paceline uses inside its cores, Pacemaker's legacy
 * return code (negative errno or -pcmk_err_*, as the CIB manager returns it), the exit status
 * `cibadmin` ends with (crm_exit_t, after Pacemaker's crm_errno2exit mapping), and the message
 * Pacemaker prints ("Call failed: <message>"). Values checked against pacemaker-cli-utils 2.1.5.
 */

import type { XmlElement } from './xml.js';

export interface CibErrorInfo {
  /** Pacemaker's legacy return code (negative). */
  readonly legacyRc: number;
  /** Pacemaker's symbolic name for the legacy code. */
  readonly pacemakerName: string;
  /** Exit status of cibadmin for this error (crm_exit_t). */
  readonly exitCode: number;
  /** The message Pacemaker prints for this error. */
  readonly message: string;
}

export const cibErrors = {
  'invalid-argument': { legacyRc: -22, pacemakerName: 'EINVAL', exitCode: 70, message: 'Invalid argument' },
  'no-such-object': { legacyRc: -6, pacemakerName: 'ENXIO', exitCode: 105, message: 'No such device or address' },
  'already-exists': { legacyRc: -17, pacemakerName: 'EEXIST', exitCode: 108, message: 'File exists' },
  'not-unique': { legacyRc: -76, pacemakerName: 'ENOTUNIQ', exitCode: 109, message: 'Name not unique on network' },
  'no-message': { legacyRc: -42, pacemakerName: 'ENOMSG', exitCode: 76, message: 'No message of desired type' },
  'protocol-not-supported': {
    legacyRc: -93,
    pacemakerName: 'EPROTONOSUPPORT',
    exitCode: 76,
    message: 'Protocol not supported',
  },
  'permission-denied': { legacyRc: -13, pacemakerName: 'EACCES', exitCode: 4, message: 'Permission denied' },
  'generic': { legacyRc: -201, pacemakerName: 'pcmk_err_generic', exitCode: 1, message: 'Error' },
  'schema-validation': {
    legacyRc: -203,
    pacemakerName: 'pcmk_err_schema_validation',
    exitCode: 78,
    message: 'Update does not conform to the configured schema',
  },
  'transform-failed': {
    legacyRc: -204,
    pacemakerName: 'pcmk_err_transform_failed',
    exitCode: 78,
    message: 'Schema transform failed',
  },
  'old-data': {
    legacyRc: -205,
    pacemakerName: 'pcmk_err_old_data',
    exitCode: 103,
    message: 'Update was older than existing configuration',
  },
  'diff-failed': {
    legacyRc: -206,
    pacemakerName: 'pcmk_err_diff_failed',
    exitCode: 1,
    message: 'Application of update diff failed',
  },
  'diff-resync': {
    legacyRc: -207,
    pacemakerName: 'pcmk_err_diff_resync',
    exitCode: 1,
    message: 'Application of update diff failed, requesting full refresh',
  },
  'unsafe': {
    legacyRc: -201,
    pacemakerName: 'pcmk_err_generic',
    exitCode: 107,
    message: 'The supplied command is considered dangerous',
  },
} as const satisfies Record<string, CibErrorInfo>;

export type CibErrorCode = keyof typeof cibErrors;

/** An expected failure of a CIB operation, returned as a value. `detail` says what exactly. */
export interface CibError {
  readonly code: CibErrorCode;
  readonly legacyRc: number;
  readonly exitCode: number;
  readonly message: string;
  readonly detail: string;
  /** What cibadmin prints with the failure, when it prints something (e.g. `<failed>` for create). */
  readonly output?: XmlElement;
}

export function cibError(code: CibErrorCode, detail: string): CibError {
  const info: CibErrorInfo = cibErrors[code];
  return { code, legacyRc: info.legacyRc, exitCode: info.exitCode, message: info.message, detail };
}

/** The outcome of a pure CIB operation: a value, or an error and nothing changed. */
export type CibResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: CibError };

export function cibOk<T>(value: T): CibResult<T> {
  return { ok: true, value };
}

export function cibFail<T>(code: CibErrorCode, detail: string): CibResult<T> {
  return { ok: false, error: cibError(code, detail) };
}
