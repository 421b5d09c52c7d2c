/**
 * Text of "Transition Summary:" lines as Pacemaker 2.1.5's text output prints them
 * (rsc_action_item / node_action in pcmk_output.c), column widths included.
 */
import type { SummaryLine } from './types.js';

/**
 * Renders the lines in order. Pacemaker keeps the resource-name and details column widths in
 * static variables that only grow while one process prints; this reproduces a fresh process.
 */
export function renderSummary(lines: readonly SummaryLine[]): string[] {
  let rscWidth = 5;
  let detailWidth = 5;
  const out: string[] = [];
  for (const l of lines) {
    if (l.change === 'Fence') {
      const who = l.fenceResource ? `${l.to} (resource: ${l.fenceResource})` : `${l.to}`;
      out.push(`  * Fence (${l.fenceAction}) ${who} '${l.reason ?? ''}'`);
      continue;
    }
    const id = l.rsc ?? '';
    if (id.length > rscWidth) rscWidth = id.length + 2;
    if (l.details.length > detailWidth) detailWidth = l.details.length;
    let reason = '';
    if (l.reason && l.blocked) reason = `due to ${l.reason} (blocked)`;
    else if (l.reason) reason = `due to ${l.reason}`;
    else if (l.blocked) reason = 'blocked';
    out.push(`  * ${l.change.padEnd(8)}   ${id.padEnd(rscWidth)}   ( ${l.details.padStart(detailWidth)} )${reason ? '  ' : ''}${reason}`);
  }
  return out;
}
