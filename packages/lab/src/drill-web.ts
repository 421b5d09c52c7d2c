/**
 * `paceline drill web`: a web service on shared storage (cib-examples/web-shared-storage.xml in
 * the lab) on three nodes with fence_lab. The group `web` mounts the shared ext4 disk
 * (drill-storage.ts: a loop device every node reaches, mounted in the holder's own mount
 * namespace), brings up the floating IP and starts Apache serving the disk's www/ directory.
 *
 * One run: write a fresh page (a token) on the disk through the holder, let the client fetch it
 * through the floating IP every 20 ms, power the holder off, and measure from the fault to the
 * first good HTTP answer from another node. Invariants: single-mac (ARP watcher),
 * fencing-before-recovery (the lost node fenced before web-fs started elsewhere),
 * cib-same-on-every-node, no-resource-left-stopped, and content-from-shared-storage (every good
 * answer, before and after the failover, is the page written on the disk before the fault).
 */
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { labCib, vipHolder, esc, floatingIpPrimitive } from './drill.js';
import { fencingInvariant, lostNodeTimeline, recoveryDc, settledInvariants, singleMacInvariant, verdict, type DrillScenarioDef, type RunCtx, type RunOutcome, READY_MS } from './drill-common.js';
import { watchHttp, type ProbeSample } from './drill-probe.js';
import type { InvariantResult } from './drill-render.js';
import { inNodeMount, makeSharedDisk } from './drill-storage.js';
import { readNodeLogs } from './drill-timeline.js';
import { faults } from './faults.js';
import { alive, nodePid, sleep, type LabState } from './lab.js';
import { waitSettled, type NodeStatus } from './settle.js';
import { analyze, watchIp, type Sample } from './watch.js';


/** The Apache binary the drill runs (Debian's apache2). */
export const APACHE_BINARY = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';

/**
 * A self-contained Apache configuration for the lab: event MPM, serves `docroot`, answers
 * /server-status to localhost (the agent's monitor), and names the node in an X-Paceline-Node
 * header (from the node's PACELINE_LAB_NODE). Pid file, runtime and log files go to the node's
 * own HA_RSCTMP, so no node ever sees another node's pid file.
 */
export function apacheLabConfig(docroot: string): string {
  return `# paceline drill web: Apache for a lab node (variables come from the node's environment)
ServerName drill-web
LoadModule mpm_event_module ${MODULES}/mod_mpm_event.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule authz_host_module ${MODULES}/mod_authz_host.so
LoadModule dir_module ${MODULES}/mod_dir.so
LoadModule headers_module ${MODULES}/mod_headers.so
LoadModule status_module ${MODULES}/mod_status.so
User www-data
Group www-data
Listen 80
PidFile \${HA_RSCTMP}/apache2.pid
DefaultRuntimeDir \${HA_RSCTMP}
Mutex file:\${HA_RSCTMP} default
ErrorLog \${HA_RSCTMP}/apache2-error.log
LogLevel warn
StartServers 1
ServerLimit 2
ThreadsPerChild 16
MaxRequestWorkers 32
MinSpareThreads 4
MaxSpareThreads 32
KeepAlive Off
DocumentRoot "${docroot}"
<Directory "${docroot}">
  Require all granted
</Directory>
DirectoryIndex index.html
Header always set X-Paceline-Node "\${PACELINE_LAB_NODE}"
<Location "/server-status">
  SetHandler server-status
  Require local
</Location>
`;
}

/** The web group of cib-examples/web-shared-storage.xml with the lab's device, address and Apache configuration. */
export function webCib(o: { labDir: string; nodes: readonly string[]; stonith: boolean; vip: string; device: string; mountPoint: string; apacheConfig: string }): string {
  return labCib({
    labDir: o.labDir,
    nodes: o.nodes,
    stonith: o.stonith,
    resources: `      <group id="web">
        <primitive id="web-fs" class="ocf" provider="paceline" type="Filesystem">
          <instance_attributes id="web-fs-ia">
            <nvpair id="web-fs-device" name="device" value="${esc(o.device)}"/>
            <nvpair id="web-fs-directory" name="directory" value="${esc(o.mountPoint)}"/>
            <nvpair id="web-fs-fstype" name="fstype" value="ext4"/>
          </instance_attributes>
          <operations><op id="web-fs-monitor" name="monitor" interval="20s" timeout="40s"/></operations>
        </primitive>
${floatingIpPrimitive('web-vip', o.vip, '5s', '        ')}
        <primitive id="web-server" class="ocf" provider="paceline" type="httpd">
          <instance_attributes id="web-server-ia">
            <nvpair id="web-server-binary" name="binary" value="${APACHE_BINARY}"/>
            <nvpair id="web-server-configfile" name="configfile" value="${esc(o.apacheConfig)}"/>
            <nvpair id="web-server-statusurl" name="statusurl" value="http://127.0.0.1/server-status"/>
            <nvpair id="web-server-envfiles" name="envfiles" value="none"/>
          </instance_attributes>
          <operations><op id="web-server-monitor" name="monitor" interval="10s" timeout="20s"/></operations>
        </primitive>
      </group>
`,
  });
}

/** Writes `text` to a file and fsyncs it (a page that survives the node's power loss). */
export function writeDurably(path: string, text: string): void {
  const fd = openSync(path, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export const webScenario: DrillScenarioDef = {
  name: 'web',
  description: 'power off the holder of a web group (ext4 shared disk + IP + Apache, 3 nodes)',
  nodes: 3,
  tools: ['losetup', 'mkfs.ext4', 'apache2', 'curl', 'python3'],
  async prepare(p) {
    // Apache's workers (www-data) read the page under the lab directory.
    chmodSync(p.dir, 0o755);
    const content = join(p.dir, 'shared', 'content');
    mkdirSync(join(content, 'www'), { recursive: true, mode: 0o755 });
    writeFileSync(join(content, 'www', 'index.html'), 'paceline drill web: initial page\n', { mode: 0o644 });
    const apacheConfig = join(p.dir, 'web', 'apache2.conf');
    mkdirSync(join(p.dir, 'web'), { recursive: true });
    writeFileSync(apacheConfig, apacheLabConfig(join(p.dir, 'shared', 'mnt', 'www')));
    // Last: nothing that can fail comes after the loop device is attached (cleanup releases it).
    const disk = makeSharedDisk(p.dir, { content, label: 'drillweb' });
    p.log(`shared storage: ${disk.image} on ${disk.device}, mounted by the holder on ${disk.mountPoint}`);
    return {
      cib: webCib({ labDir: p.dir, nodes: p.nodes, stonith: p.stonith, vip: p.vip, device: disk.device, mountPoint: disk.mountPoint, apacheConfig }),
      run: (lab, c) => webRun(lab, c, disk.mountPoint),
      cleanup: () => disk.release(),
    };
  },
};

/** content-from-shared-storage: every good answer is the page written before the fault, and the new node served it. */
export function contentInvariant(samples: readonly ProbeSample[], token: string, to: string | undefined, faultAt: number): InvariantResult {
  const good = samples.filter((s) => s.ok);
  const wrong = good.filter((s) => s.text !== token);
  if (wrong.length > 0) return { name: 'content-from-shared-storage', status: 'violated', detail: `${wrong.length} answer(s) with another page, e.g. '${wrong[0]!.text}' from ${wrong[0]!.node ?? '?'}` };
  const after = good.filter((s) => s.sent > faultAt && s.node === to);
  if (to === undefined || after.length === 0) return { name: 'content-from-shared-storage', status: 'violated', detail: 'no answer from another node after the fault' };
  return { name: 'content-from-shared-storage', status: 'ok', detail: `${good.length} answers, ${after.length} from ${to} after the failover` };
}

/** One web run (see the file comment). */
export async function webRun(lab: LabState, c: RunCtx, mountPoint: string): Promise<RunOutcome> {
  const from = await vipHolder(lab, 'web-vip');
  if (from === undefined) throw new Error('the web group runs nowhere before the fault');
  const page = inNodeMount(lab, from, join(mountPoint, 'www', 'index.html'));
  if (page === undefined) throw new Error(`${from} holds the web group but is not running`);
  const token = `paceline-drill-web-run${c.run}-${randomBytes(6).toString('hex')}`;
  writeDurably(page, `${token}\n`);
  const reasons: string[] = [];
  const arp = watchIp({ netns: lab.client!.netns, ip: c.vip });
  const http = watchHttp({ netns: lab.client!.netns, host: c.vip, intervalMs: 20, timeoutMs: 1000 });
  let faultAt = 0;
  let answered: ProbeSample | undefined;
  let arpSamples: Sample[] = [];
  let httpSamples: ProbeSample[] = [];
  try {
    await Promise.all([arp.ready(READY_MS), http.ready(READY_MS)]);
    const end0 = Date.now() + 5000;
    while (!http.samples.some((s) => s.ok && s.text === token && s.node === from) && Date.now() < end0) await sleep(20);
    if (!http.samples.some((s) => s.ok && s.text === token)) reasons.push(`before the fault, ${c.vip} did not serve the page written on the shared disk (last answer: ${http.samples.at(-1)?.text ?? 'none'})`);
    await sleep(c.preFaultMs);
    faultAt = await faults(lab.dir).powerOff(from);
    c.log(`power off ${from}`);
    const end = faultAt + 30_000;
    while (Date.now() < end) {
      await sleep(50);
      answered ??= http.samples.find((s) => s.ok && s.sent > faultAt && s.node !== from);
      if (answered !== undefined && Date.now() - answered.t >= 1000) break;
    }
  } finally {
    [arpSamples, httpSamples] = await Promise.all([arp.stop(), http.stop()]);
  }
  const until = Date.now();
  const to = answered?.node;
  if (answered === undefined) reasons.push(`no good HTTP answer from another node within 30000 ms of the fault`);
  else {
    const failedAfter = httpSamples.filter((s) => !s.ok && s.sent > answered!.t);
    if (failedAfter.length > 0) reasons.push(`${failedAfter.length} request(s) sent after the service was back failed (first: ${failedAfter[0]!.text})`);
  }
  if (to !== undefined && !lab.nodes.some((n) => n.name === to)) reasons.push(`the answer names node '${to}', which is no lab node (X-Paceline-Node)`);
  const settled = await backToFull(lab, from, c, reasons);
  const survivors = lab.nodes.map((n) => n.name).filter((n) => n !== from);
  const logs = readNodeLogs(lab.dir, survivors);
  const fault = `power off ${from}`;
  const timeline = lostNodeTimeline(lab, { faultAt, fault, lost: [from], logs, ...(answered === undefined ? {} : { answeredAt: answered.t, answeredBy: to! }), until });
  const invariants: InvariantResult[] = [
    singleMacInvariant(analyze(arpSamples, faultAt).twoMacSamples.length),
    fencingInvariant(c.stonith, logs, recoveryDc(timeline, survivors), from, to, faultAt, 'web-fs'),
    ...settledInvariants(settled, lab.nodes.map((n) => n.name)),
    contentInvariant(httpSamples, token, to, faultAt),
  ];
  return { run: verdict(c.run, fault, answered === undefined ? undefined : answered.t - faultAt, reasons, invariants, timeline, from, to), unsettled: settled.length === 0 };
}

/** Powers the lost node on again (unless fencing did) and waits until the cluster settled; [] when it did not. */
export async function backToFull(lab: LabState, lost: string, c: RunCtx, reasons: string[]): Promise<NodeStatus[]> {
  const node = lab.nodes.find((n) => n.name === lost)!;
  if (!alive(nodePid(node))) await faults(lab.dir).powerOn(lost);
  try {
    return [...(await waitSettled(lab.nodes, { timeoutMs: c.settleTimeoutMs, progress: c.log })).values()];
  } catch (err) {
    reasons.push(`after the run: ${(err as Error).message}`);
    return [];
  }
}
