/**
 * Applying parsed ipvsadm commands to a rule table with the kernel's checks and libipvs's
 * messages (ipvs_strerror). Pure: returns a new table, or an error and the table unchanged.
 */
import { IPVS_DEFAULTS, SCHEDULER_NAMES, findService, sameServiceKey, type Destination, type RuleTable, type Service, type ServiceKey } from './model.js';
import { IPVSADM_EXIT, type IpvsCommand, type IpvsError, type ParsedDest, type ParsedService } from './parse.js';

export type ApplyResult = { ok: true; table: RuleTable; changed: boolean } | IpvsError;

/** libipvs messages for the kernel's errno values, by operation. */
export const IPVS_ERRORS = {
  serviceExists: 'Service already exists',
  schedulerNotFound: 'Scheduler or persistence engine not found',
  noSuchService: 'No such service',
  serviceNotDefined: 'Service not defined',
  destExists: 'Destination already exists',
  noSuchDest: 'No such destination',
  invalid: 'Invalid operation.  Possibly wrong module version, address not unicast, ...',
  noMemory: 'Memory allocation problem',
  range: 'Numerical result out of range',
  daemon: 'Protocol not available',
} as const;

function kerr(code: keyof typeof IPVS_ERRORS): IpvsError {
  return { ok: false, code, message: IPVS_ERRORS[code], exitCode: IPVSADM_EXIT.error };
}

/** RTN_UNICAST/RTN_LOCAL in the kernel's eyes: not 0.0.0.0/8, not multicast, not broadcast. */
function isUnicast(addr: number): boolean {
  return addr >>> 24 !== 0 && (addr >>> 28) !== 0xe && addr !== 0xffffffff;
}

function knownScheduler(name: string, extra: readonly string[]): boolean {
  return (SCHEDULER_NAMES as readonly string[]).includes(name) || extra.includes(name);
}

function replaceService(table: RuleTable, key: ServiceKey, next: Service | undefined): RuleTable {
  const services = next === undefined ? table.services.filter((s) => !sameServiceKey(s.key, key)) : table.services.map((s) => (sameServiceKey(s.key, key) ? next : s));
  return { ...table, services };
}

function serviceFrom(p: ParsedService, dests: readonly Destination[]): Service {
  return { key: p.key, scheduler: p.scheduler, flags: p.flags, persistTimeoutS: p.persistTimeoutS, netmask: p.netmask, dests };
}

function addService(table: RuleTable, p: ParsedService, extra: readonly string[]): ApplyResult {
  if (findService(table, p.key)) return kerr('serviceExists');
  if (!knownScheduler(p.scheduler, extra)) return kerr('schedulerNotFound');
  if (table.services.length >= IPVS_DEFAULTS.servicesMax) return kerr('noMemory');
  return { ok: true, changed: true, table: { ...table, services: [...table.services, serviceFrom(p, [])] } };
}

function editService(table: RuleTable, p: ParsedService, extra: readonly string[]): ApplyResult {
  const old = findService(table, p.key);
  if (!old) return kerr('noSuchService');
  if (!knownScheduler(p.scheduler, extra)) return kerr('schedulerNotFound');
  return { ok: true, changed: true, table: replaceService(table, p.key, serviceFrom({ ...p, key: old.key }, old.dests)) };
}

function destChecks(d: ParsedDest): IpvsError | undefined {
  if (d.lowerThreshold > d.upperThreshold) return kerr('range');
  return undefined;
}

function toDest(d: ParsedDest): Destination {
  return { addr: d.addr, port: d.port, forward: d.forward, weight: d.weight, upperThreshold: d.upperThreshold, lowerThreshold: d.lowerThreshold };
}

function addDest(table: RuleTable, key: ServiceKey, d: ParsedDest): ApplyResult {
  const svc = findService(table, key);
  if (!svc) return kerr('serviceNotDefined');
  const bad = destChecks(d);
  if (bad) return bad;
  if (!isUnicast(d.addr)) return kerr('invalid');
  if (svc.dests.some((x) => x.addr === d.addr && x.port === d.port)) return kerr('destExists');
  if (svc.dests.length >= IPVS_DEFAULTS.destsPerServiceMax) return kerr('noMemory');
  // The kernel adds at the head of the list (list_add_rcu), which the schedulers walk.
  return { ok: true, changed: true, table: replaceService(table, key, { ...svc, dests: [toDest(d), ...svc.dests] }) };
}

function editDest(table: RuleTable, key: ServiceKey, d: ParsedDest): ApplyResult {
  const svc = findService(table, key);
  if (!svc) return kerr('serviceNotDefined');
  const bad = destChecks(d);
  if (bad) return bad;
  if (!svc.dests.some((x) => x.addr === d.addr && x.port === d.port)) return kerr('noSuchDest');
  const dests = svc.dests.map((x) => (x.addr === d.addr && x.port === d.port ? toDest(d) : x));
  return { ok: true, changed: true, table: replaceService(table, key, { ...svc, dests }) };
}

function delDest(table: RuleTable, key: ServiceKey, d: ParsedDest): ApplyResult {
  const svc = findService(table, key);
  if (!svc) return kerr('serviceNotDefined');
  if (!svc.dests.some((x) => x.addr === d.addr && x.port === d.port)) return kerr('noSuchDest');
  const dests = svc.dests.filter((x) => !(x.addr === d.addr && x.port === d.port));
  return { ok: true, changed: true, table: replaceService(table, key, { ...svc, dests }) };
}

export interface ApplyOptions {
  /** Scheduler names accepted besides the kernel's thirteen (none by default). */
  extraSchedulers?: readonly string[];
}

/**
 * Apply a table-changing command. List, save, restore, help and version change nothing here
 * (the caller prints or feeds lines back); zero is the caller's business too (counters are not
 * in the table) but its "No such service" check is done here.
 */
export function applyCommand(table: RuleTable, cmd: IpvsCommand, opts: ApplyOptions = {}): ApplyResult {
  const extra = opts.extraSchedulers ?? [];
  switch (cmd.kind) {
    case 'add-service': return addService(table, cmd.service, extra);
    case 'edit-service': return editService(table, cmd.service, extra);
    case 'delete-service':
      return findService(table, cmd.key) ? { ok: true, changed: true, table: replaceService(table, cmd.key, undefined) } : kerr('noSuchService');
    case 'add-server': return addDest(table, cmd.key, cmd.dest);
    case 'edit-server': return editDest(table, cmd.key, cmd.dest);
    case 'delete-server': return delDest(table, cmd.key, cmd.dest);
    case 'flush': return { ok: true, changed: true, table: { ...table, services: [] } };
    case 'set': {
      const t = table.timeouts;
      const n = cmd.timeouts;
      // The kernel leaves a timeout unchanged when given 0.
      const timeouts = { tcpS: n.tcpS || t.tcpS, tcpFinS: n.tcpFinS || t.tcpFinS, udpS: n.udpS || t.udpS };
      return { ok: true, changed: true, table: { ...table, timeouts } };
    }
    case 'zero':
      return cmd.key && !findService(table, cmd.key) ? kerr('noSuchService') : { ok: true, changed: false, table };
    case 'start-daemon': case 'stop-daemon':
      return kerr('daemon');
    case 'list': case 'save': case 'restore': case 'help': case 'version':
      return { ok: true, changed: false, table };
  }
}
