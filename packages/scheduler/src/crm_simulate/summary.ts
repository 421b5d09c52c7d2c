/**
 * "Transition Summary:" lines from the engine's structured summary, with Pacemaker 2.1.5's column
 * alignment (pcmk_output.c rsc_action_item and node_action).
 *
 * Pacemaker keeps the column widths in function-static variables that only grow while lines are
 * formatted: the resource column starts at 5 and becomes `len + 2` when an id is longer than it;
 * the details column starts at 5 and becomes the longest details text so far. `SummaryWidths`
 * holds them for one run (not per process).
 */
import type { SummaryLine } from '../types.js';

/** Column widths of one Transition Summary, grown as lines are formatted. */
export class SummaryWidths {
  rscWidth = 5;
  detailWidth = 5;
}

/** "due to X", "due to X (blocked)", "blocked", or nothing. */
function reasonText(line: SummaryLine): string | undefined {
  if (line.reason !== undefined && line.blocked) return `due to ${line.reason} (blocked)`;
  if (line.reason !== undefined) return `due to ${line.reason}`;
  if (line.blocked) return 'blocked';
  return undefined;
}

/** One line without the list bullet, e.g. `Move       rsc6    ( node1 -> node2 )`. */
export function formatSummaryLine(line: SummaryLine, widths: SummaryWidths): string {
  if (line.change === 'Fence') return formatFenceLine(line);
  const rsc = line.rsc ?? '';
  if (rsc.length > widths.rscWidth) widths.rscWidth = rsc.length + 2;
  if (line.details.length > widths.detailWidth) widths.detailWidth = line.details.length;
  const reason = reasonText(line);
  return `${line.change.padEnd(8)}   ${rsc.padEnd(widths.rscWidth)}   ( ${line.details.padStart(widths.detailWidth)} )${reason !== undefined ? `  ${reason}` : ''}`;
}

/** `Fence (reboot) node1 'peer is no longer part of the cluster'` (node_action). */
function formatFenceLine(line: SummaryLine): string {
  const node = line.to ?? line.from ?? line.details;
  const target = line.fenceResource !== undefined ? `${node} (resource: ${line.fenceResource})` : node;
  return `Fence (${line.fenceAction ?? 'reboot'}) ${target} '${line.reason ?? ''}'`;
}

/**
 * Every line, in the engine's order (node actions first, then resources in configuration order).
 *
 * The scheduler logs the same lines (log_all_actions) before crm_simulate prints them, through
 * the same function and its static widths: the printed lines therefore all use the widths the
 * logged pass ended with. Two passes reproduce that.
 */
export function formatSummary(lines: readonly SummaryLine[]): string[] {
  const widths = new SummaryWidths();
  for (const l of lines) formatSummaryLine(l, widths);
  return lines.map((l) => formatSummaryLine(l, widths));
}
