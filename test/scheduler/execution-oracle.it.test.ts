/**
 * The simulated execution ("Executing Cluster Transition:"), checked apart from the scheduler:
 * Pacemaker 2.1.5's own transition graph (`crm_simulate -G`, a real process) is run through
 * paceline's graph executor, and the actions it prints must be the corpus summary's, in the same
 * order; then the status paceline recorded for those results is read back by Pacemaker
 * (`crm_simulate -R` on paceline's output CIB), which must see what it sees in the status it
 * recorded itself (`crm_simulate -S -O`). This pins down the executor (synapse firing order,
 * pseudo/fencing/cluster actions, names) and the recorded history, whatever the scheduler decides.
 * It also prints, for information, how often paceline's own unpacking of that status renders the
 * corpus's "Revised Cluster Status".
 *
 * It runs every eighth corpus case by default (about 25 s of crm_simulate on two cores);
 * PACELINE_ORACLE_ALL=1 runs all of them. A mismatch prints the case and both lists.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCib, parseXml, readCib, writeElement, type XmlElement } from '@paceline/cib';
import { unpackCluster } from '../../packages/scheduler/src/index.js';
import type { Action } from '../../packages/scheduler/src/types.js';
import { eventText, executeTransition, type ExecEvent } from '../../packages/scheduler/src/crm_simulate/execute.js';
import { StatusEditor } from '../../packages/scheduler/src/crm_simulate/status-edit.js';
import { renderClusterStatus } from '../../packages/scheduler/src/crm_simulate/status.js';
import { TextOutput } from '../../packages/scheduler/src/crm_simulate/text.js';
import { missing, schedulerCorpusDir, which } from '../support/env.js';
import { readIndex, sameText, sectionBlock, type CorpusCase } from './corpus.js';

const run = promisify(execFile);

function elements(el: XmlElement, name?: string): XmlElement[] {
  return el.children.filter((c): c is XmlElement => c.kind === 'element' && (name === undefined || c.name === name));
}

/** One graph action as paceline's `Action` (with the graph's expected rc, priority and ids). */
function toAction(el: XmlElement, inputs: number[], priority: number): Action {
  const prim = elements(el, 'primitive')[0];
  const attrs = elements(el, 'attributes')[0]?.attrs ?? {};
  const rsc = prim ? (prim.attrs['long-id'] ?? prim.attrs.id) : undefined;
  const action = {
    id: Number(el.attrs.id),
    key: el.attrs.operation_key ?? el.attrs.operation ?? '',
    rsc,
    task: el.attrs.operation ?? '',
    intervalMs: Number(attrs.CRM_meta_interval ?? 0),
    node: el.attrs.on_node,
    optional: false,
    runnable: true,
    pseudo: el.name === 'pseudo_event',
    reason: undefined,
    inputs,
    inGraph: true,
    priority,
    ...(prim ? { graphRscId: prim.attrs.id } : {}),
    ...(attrs.CRM_meta_op_target_rc !== undefined ? { expectedRc: Number(attrs.CRM_meta_op_target_rc) } : {}),
    ...(attrs.CRM_meta_stonith_action !== undefined ? { stonithAction: attrs.CRM_meta_stonith_action } : {}),
  };
  return action;
}

/** The synapses of a graph file, in order. */
function readGraph(text: string): Action[] {
  const root = parseXml(text).root;
  return elements(root, 'synapse').map((syn) => {
    const action = elements(elements(syn, 'action_set')[0]!)[0]!;
    const inputs = elements(elements(syn, 'inputs')[0] ?? syn, 'trigger').map((t) => Number(elements(t)[0]?.attrs.id));
    return toAction(action, inputs, Number(syn.attrs.priority ?? 0));
  });
}

function itemsOf(block: string): string[] {
  return block
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('* '))
    .map((l) => l.replace(/\s+/g, ' '));
}

const why = missing({ tools: ['crm_simulate'], paths: [join(schedulerCorpusDir, 'INDEX.tsv')] });

describe.skipIf(!!why)(`graph execution compared with Pacemaker 2.1.5's ${why ?? ''}`, () => {
  const work = why ? '' : mkdtempSync(join(tmpdir(), 'paceline-graphs-'));
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  // Every sampled case: Pacemaker's graph, paceline's executor, the corpus's printed actions.
  it('prints the actions of Pacemaker graphs in Pacemaker order', async () => {
    const all = readIndex(schedulerCorpusDir);
    const only = process.env.PACELINE_CASE ? new Set(process.env.PACELINE_CASE.split(',')) : undefined;
    const cases = only ? all.filter((c) => only.has(c.name)) : process.env.PACELINE_ORACLE_ALL === '1' ? all : all.filter((_, i) => i % 8 === 0);
    const tool = which('crm_simulate') ?? 'crm_simulate';
    const failures: string[] = [];
    const revisedDiffer: string[] = [];
    const readBackDiffer: string[] = [];
    let readBackChecked = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let c: CorpusCase | undefined = cases[next++]; c; c = cases[next++]) {
        const graphFile = join(work, `${c.name}.graph.xml`);
        const xml = join(schedulerCorpusDir, 'xml', `${c.name}.xml`);
        const pacemakerOut = join(work, `${c.name}.pacemaker.xml`);
        await run(tool, ['-x', xml, '-S', '-Q', '-G', graphFile, '-O', pacemakerOut, ...c.extraArgs], { maxBuffer: 64 << 20 }).catch(() => undefined);
        let graphText: string;
        try {
          graphText = readFileSync(graphFile, 'utf8');
        } catch {
          continue; // no graph produced (Pacemaker rejects the input): nothing to compare
        }
        const summary = readFileSync(join(schedulerCorpusDir, 'summary', `${c.name}.summary`), 'utf8');
        const expected = itemsOf(sectionBlock(summary, 'Executing Cluster Transition:'));
        const { lines: actual, revised, cibOut } = executeGraph(readFileSync(xml, 'utf8'), graphText);
        // The status paceline recorded, read by Pacemaker, must be what Pacemaker reads in the status
        // it recorded itself for the same graph.
        if (c.extraArgs.length === 0) {
          const outFile = join(work, `${c.name}.out.xml`);
          writeFileSync(outFile, cibOut.replace(/crm_feature_set="3\.16\.2"/g, 'crm_feature_set="3.16.1"'));
          const readBack = async (file: string): Promise<string> =>
            sectionBlock(await run(tool, ['-x', file, '-R'], { maxBuffer: 64 << 20 }).then((r) => r.stdout, () => ''), 'Current cluster status:');
          const [ours, theirs] = [await readBack(outFile), await readBack(pacemakerOut)];
          readBackChecked++;
          if (theirs === '' || !sameText(ours, theirs)) readBackDiffer.push(c.name);
        }
        if (!sameText(revised, sectionBlock(summary, 'Revised Cluster Status:'))) revisedDiffer.push(c.name);
        if ((process.env.PACELINE_CASE ?? '').split(',').includes(c.name)) {
          console.log(`${c.name} revised, expected:\n${sectionBlock(summary, 'Revised Cluster Status:')}\npaceline:\n${revised}`);
          writeFileSync(join(tmpdir(), `paceline-${c.name}.out.xml`), cibOut);
        }
        if (JSON.stringify(actual) !== JSON.stringify(expected)) {
          failures.push(`${c.name}:\n  expected ${JSON.stringify(expected)}\n  paceline ${JSON.stringify(actual)}`);
        }
      }
    };
    await Promise.all([worker(), worker()]);
    console.log(`graph execution: ${cases.length - failures.length} of ${cases.length} cases print Pacemaker's actions in Pacemaker's order`);
    console.log(`read back by Pacemaker: ${readBackChecked - readBackDiffer.length} of ${readBackChecked} statuses paceline recorded read as the ones Pacemaker recorded (differ: ${readBackDiffer.join(' ')})`);
    // Informational: the status the results leave, as paceline's engine unpacks and renders it.
    console.log(`revised status from Pacemaker's graph: ${cases.length - revisedDiffer.length} of ${cases.length} match (differ: ${revisedDiffer.slice(0, 100).join(' ')}${revisedDiffer.length > 100 ? ' ...' : ''})`);
    expect(failures.slice(0, 5)).toEqual([]);
    expect(readBackDiffer).toEqual([]);
  }, 600_000);
});

/** Runs a Pacemaker graph through paceline's executor: printed lines, revised status, output CIB. */
function executeGraph(cibText: string, graphText: string): { lines: string[]; revised: string; cibOut: string } {
  const cib = parseCib(cibText);
  const state = unpackCluster(cib, {});
  const editor = new StatusEditor(cib.xml);
  const order = readGraph(graphText);
  const lines: string[] = [];
  const report = (e: ExecEvent): void => {
    const { item, text } = eventText(e);
    if (item) lines.push(`* ${text}`.replace(/\s+/g, ' '));
  };
  executeTransition({
    transition: { actions: order, summary: [] },
    state,
    editor,
    agents: new Map(),
    promotedMonitors: new Set(),
    opFail: [],
    order,
    clockSec: Math.max(state.nowSec, editor.latestRecordedSec() + 1),
    report,
  });
  const revisedCib = readCib(editor.root);
  const out = new TextOutput(true);
  renderClusterStatus(out, 'Revised Cluster Status', unpackCluster(revisedCib, {}), revisedCib, { showPending: false });
  return { lines, revised: out.text(), cibOut: writeElement(editor.root) };
}
