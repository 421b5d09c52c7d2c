/**
 * Node health (pcmk__apply_node_health, pe_health.c): with a node-health-strategy, the `#health*`
 * node attributes (red/yellow/green or integers) add up to a location score for every resource on
 * that node.
 */
import type { HealthScores } from '@paceline/cib';
import { SCORE_INFINITY, addScores, parseScore } from '@paceline/cib';
import type { WLocation } from './constraints.js';
import type { Unpacked } from './unpack.js';
import { isTrue } from './util.js';

type Strategy = 'none' | 'migrate-on-red' | 'only-green' | 'progressive' | 'custom';

function strategyOf(u: Unpacked): Strategy {
  const v = (u.options.get('node-health-strategy') ?? 'none').toLowerCase();
  return v === 'migrate-on-red' || v === 'only-green' || v === 'progressive' || v === 'custom' ? v : 'none';
}

/** pe__unpack_node_health_scores. */
function healthScores(u: Unpacked, s: Strategy): HealthScores {
  switch (s) {
    case 'none':
      return { red: 0, yellow: 0, green: 0 };
    case 'migrate-on-red':
      return { red: -SCORE_INFINITY, yellow: 0, green: 0 };
    case 'only-green':
      return { red: -SCORE_INFINITY, yellow: -SCORE_INFINITY, green: 0 };
    case 'progressive':
    case 'custom':
      return {
        red: parseScore(u.options.get('node-health-red') ?? '-INFINITY'),
        yellow: parseScore(u.options.get('node-health-yellow') ?? '0'),
        green: parseScore(u.options.get('node-health-green') ?? '0'),
      };
    default: {
      const never: never = s;
      return never;
    }
  }
}

/** One location per resource and node whose summed health is not 0. */
export function healthLocations(u: Unpacked): WLocation[] {
  const strategy = strategyOf(u);
  if (strategy === 'none') return [];
  const scores = healthScores(u, strategy);
  const base = strategy === 'progressive' ? parseScore(u.options.get('node-health-base') ?? '0', scores) : 0;
  const out: WLocation[] = [];
  for (const node of u.nodes) {
    let health = base;
    for (const [k, v] of node.attrs) if (k.startsWith('#health')) health = addScores(parseScore(v, scores), health);
    if (health === 0) continue;
    for (const rsc of u.resources) {
      if (health < 0 && isTrue(rsc.meta.get('allow-unhealthy-nodes'))) continue;
      out.push({ id: strategy, rsc, role: 0, scores: new Map([[node.name, health]]), discovery: 'always' });
    }
  }
  return out;
}
