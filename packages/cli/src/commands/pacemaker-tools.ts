/**
 * The Pacemaker-compatible tools under the one binary: crm_mon, cibadmin, crm_resource,
 * crm_attribute, crm_node, crm_standby, crm_failcount, stonith_admin (live: each talks to the
 * local node's API socket: --socket, $PACELINE_API_SOCKET, or /run/paceline/api.sock), and
 * crm_verify, crm_diff, crm_shadow (offline on files, crm_verify -L and crm_shadow --commit live).
 */
import type { Command } from 'commander';
import { registerCibadmin } from './cibadmin.js';
import { registerCrmDiff } from './crm_diff.js';
import { registerCrmMon } from './crm_mon.js';
import { registerCrmShadow } from './crm_shadow.js';
import { registerCrmTools } from './crm_tools.js';
import { registerCrmVerify } from './crm_verify.js';
import { registerStonithAdmin } from './stonith_admin.js';

/** Registers every Pacemaker-compatible tool on the program. */
export function registerPacemakerTools(program: Command): void {
  registerCrmMon(program);
  registerCibadmin(program);
  registerCrmTools(program);
  registerCrmVerify(program);
  registerCrmDiff(program);
  registerCrmShadow(program);
  registerStonithAdmin(program);
}
