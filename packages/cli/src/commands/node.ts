/**
 * `paceline node start --config FILE`: run this machine's cluster node in the foreground (what the
 * systemd unit runs), and `paceline status`: the cluster as the local node sees it, over the API.
 */
import type { Command } from 'commander';
import { ApiClient, type StatusResult } from '@paceline/controller';
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_CONFIG_PATH_DEFAULT, NODE_CONFIG_DEFAULTS, runNodeCommand } from '@paceline/daemon';
import { Store } from '@paceline/store';

/** Opens a node's store (data directory) for reading its history; undefined with a message when absent. */
function openStore(dataDir: string): Store | undefined {
  const path = join(dataDir, 'paceline.db');
  if (!existsSync(path)) {
    process.stderr.write(`paceline: no node data in ${dataDir} (${path} does not exist)\n`);
    process.exitCode = 66;
    return undefined;
  }
  return new Store(path);
}

export function formatClusterStatus(s: StatusResult): string {
  const lines: string[] = [];
  lines.push(`Cluster Summary:`);
  lines.push(`  * Cluster name: ${s.clusterName}`);
  lines.push(`  * Current DC: ${s.dc ?? 'NONE'} - partition ${s.quorate ? 'with' : 'WITHOUT'} quorum`);
  lines.push(`  * CIB version: ${s.cibVersion}; transition ${s.transition.id} ${s.transition.state}; seen from ${s.node}`);
  lines.push(`  * ${s.nodes.length} nodes configured`);
  lines.push(`  * ${s.resources.length} resource instances configured`);
  lines.push('');
  lines.push('Node List:');
  const online = s.nodes.filter((n) => n.online && !n.standby && !n.maintenance).map((n) => n.name);
  if (online.length) lines.push(`  * Online: [ ${online.join(' ')} ]`);
  for (const n of s.nodes) {
    if (n.unclean) lines.push(`  * Node ${n.name}: UNCLEAN (offline)`);
    else if (!n.online) lines.push(`  * Node ${n.name}: OFFLINE`);
    else if (n.standby) lines.push(`  * Node ${n.name}: standby`);
    else if (n.maintenance) lines.push(`  * Node ${n.name}: maintenance`);
  }
  lines.push('');
  lines.push('Full List of Resources:');
  if (s.resources.length === 0) lines.push('  * No resources');
  for (const r of s.resources) {
    const where = r.nodes.length ? ` ${r.nodes.join(' ')}` : '';
    const flags = `${r.managed ? '' : ' (unmanaged)'}${r.failed ? ' FAILED' : ''}`;
    lines.push(`  * ${r.id}\t(${r.agent}):\t ${r.nodes.length ? r.role : 'Stopped'}${where}${flags}`);
  }
  return lines.join('\n') + '\n';
}

export function registerNodeCommands(program: Command): void {
  const node = program.command('node').description('this machine as a cluster node');
  node
    .command('start')
    .description('run the cluster node in the foreground (logs JSON lines to stderr by default)')
    .option('--config <FILE>', 'the node configuration file', NODE_CONFIG_PATH_DEFAULT)
    .action(async (opts: { config: string }) => {
      process.exitCode = await runNodeCommand(opts.config);
    });
  node
    .command('pe-inputs')
    .description('list the scheduler inputs this node saved as DC (replay one with pe-input N, then crm_simulate -x)')
    .option('--data-dir <DIR>', 'the node data directory', NODE_CONFIG_DEFAULTS.dataDir.value)
    .action((opts: { dataDir: string }) => {
      const store = openStore(opts.dataDir);
      if (!store) return;
      try {
        for (const p of store.listPeInputs()) process.stdout.write(`pe-input-${p.seq}\t${new Date(p.nowSec * 1000).toISOString()}\n`);
      } finally {
        store.close();
      }
    });
  node
    .command('pe-input <N>')
    .description('print (or save with -o) scheduler input N, a CIB that crm_simulate -x replays exactly')
    .option('--data-dir <DIR>', 'the node data directory', NODE_CONFIG_DEFAULTS.dataDir.value)
    .option('-o, --output <FILE>', 'write it to FILE')
    .action((n: string, opts: { dataDir: string; output?: string }) => {
      const seq = Number(n.replace(/^pe-input-/, ''));
      if (!Number.isSafeInteger(seq) || seq < 1) {
        process.stderr.write(`paceline: ${n}: expected a scheduler input number (see node pe-inputs)\n`);
        process.exitCode = 64;
        return;
      }
      const store = openStore(opts.dataDir);
      if (!store) return;
      try {
        const input = store.peInput(seq);
        if (!input) {
          process.stderr.write(`paceline: pe-input-${seq} is not kept in ${opts.dataDir}\n`);
          process.exitCode = 66;
          return;
        }
        if (opts.output) writeFileSync(opts.output, input.xml);
        else process.stdout.write(input.xml.endsWith('\n') ? input.xml : `${input.xml}\n`);
      } finally {
        store.close();
      }
    });
  program
    .command('status')
    .description('the cluster status as the local node sees it (like crm_mon -1)')
    .option('--socket <PATH>', 'the node API socket', NODE_CONFIG_DEFAULTS.apiSocket.value)
    .option('--json', 'print the status as JSON')
    .action(async (opts: { socket: string; json?: boolean }) => {
      let client: ApiClient | undefined;
      try {
        client = await ApiClient.connect({ socket: opts.socket });
        const s = (await client.request('status', undefined)) as StatusResult;
        process.stdout.write(opts.json ? JSON.stringify(s, null, 2) + '\n' : formatClusterStatus(s));
      } catch (e) {
        process.stderr.write(`paceline status: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 69; // CRM_EX_UNAVAILABLE
      } finally {
        client?.close();
      }
    });
}
