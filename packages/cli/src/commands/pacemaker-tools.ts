/**
 * The live Pacemaker-compatible tools under the one binary: crm_mon, cibadmin, crm_resource,
 * crm_attribute, crm_node, crm_standby, crm_failcount (each talks to the local node's API socket:
 * --socket, $PACELINE_API_SOCKET, or /run/paceline/api.sock).
 */
import type { Command } from 'commander';
import { registerCibadmin } from './cibadmin.js';
import { registerCrmMon } from './crm_mon.js';
import { registerCrmTools } from './crm_tools.js';

/** Registers every live Pacemaker-compatible tool on the program. */
export function registerPacemakerTools(program: Command): void {
  registerCrmMon(program);
  registerCibadmin(program);
  registerCrmTools(program);
}
