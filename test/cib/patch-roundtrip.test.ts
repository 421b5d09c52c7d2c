/**
 * Property suite over the corpus, no external tools: for seeded random edits of every corpus CIB,
 * applying diffCib(a, b) to a gives exactly b, and a rejected patch leaves a untouched.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { XmlElement } from '@paceline/cib';
import { applyPatch, diffCib, parseXml, writeElement } from '@paceline/cib';
import { missing, schedulerCorpusDir } from '../support/env.js';
import { mulberry32, syntheticEdit } from './edits.js';

const why = missing({ paths: [join(schedulerCorpusDir, 'xml')] });

/**
 * True when some element has a child a format-2 path cannot single out: an id-less child sharing
 * its tag with a sibling, two siblings with the same tag and id (inc6.xml has some), or two equal
 * comments. A path then means the first of them, so no patch can address the others; crm_diff
 * has the same limit (it reports moves between identical copies of inc6.xml).
 */
function ambiguous(el: XmlElement): boolean {
  const tags = new Map<string, number>();
  const comments = new Set<string>();
  const ids = new Set<string>();
  for (const c of el.children) {
    if (c.kind === 'element') {
      tags.set(c.name, (tags.get(c.name) ?? 0) + 1);
      const id = c.attrs['id'];
      if (id !== undefined) {
        if (ids.has(`${c.name}\0${id}`)) return true;
        ids.add(`${c.name}\0${id}`);
      }
    } else {
      const key = `${c.kind}:${c.text.toLowerCase()}`;
      if (comments.has(key)) return true;
      comments.add(key);
    }
  }
  for (const c of el.children) {
    if (c.kind !== 'element') continue;
    if (c.attrs['id'] === undefined && (tags.get(c.name) ?? 0) > 1) return true;
    if (ambiguous(c)) return true;
  }
  return false;
}

describe.skipIf(!!why)(`diff/patch round trip on corpus edits ${why ?? ''}`, () => {
  // The patch is the replication format: whatever one node changed, another must rebuild exactly.
  it('rebuilds every edited corpus CIB from its patch (replay: PACELINE_SEED=<seed>)', () => {
    const seed = Number(process.env.PACELINE_SEED ?? 7);
    const rand = mulberry32(seed);
    const files = readdirSync(join(schedulerCorpusDir, 'xml')).filter((f) => f.endsWith('.xml')).sort();
    let checked = 0;
    let skipped = 0;
    for (const f of files) {
      const a = parseXml(readFileSync(join(schedulerCorpusDir, 'xml', f), 'utf8')).root;
      let b = a;
      const done: string[] = [];
      for (let k = 0, n = 1 + Math.floor(rand() * 5); k < n; k++) {
        const e = syntheticEdit(b, rand);
        b = e.cib;
        done.push(e.what);
      }
      b = { ...b, attrs: { ...b.attrs, epoch: String(Number(a.attrs['epoch'] ?? 0) + 1) } };
      const patch = diffCib(a, b);
      // b shares most subtrees with a; the diff may skip shared ones only where that cannot change
      // the result, so it must equal the diff against an unshared copy of b.
      const unshared = diffCib(a, parseXml(writeElement(b)).root);
      expect(writeElement(patch), `${f}: diff depends on sharing`).toBe(writeElement(unshared));
      if (ambiguous(a) || ambiguous(b)) {
        skipped++;
        continue;
      }
      const applied = applyPatch(a, patch);
      const label = `${f} seed=${seed} edits=[${done.join(', ')}]`;
      expect(applied.ok, `${label}: ${applied.ok ? '' : applied.error.detail}`).toBe(true);
      if (applied.ok) expect(writeElement(applied.value), label).toBe(writeElement(b));
      // Applying it again must be refused (the base moved on) and change nothing.
      if (applied.ok) {
        const again = applyPatch(applied.value, patch);
        expect(again.ok, label).toBe(false);
      }
      checked++;
    }
    console.log(`patch round trip: ${checked} edited CIBs rebuilt, ${skipped} skipped (siblings a path cannot tell apart)`);
    expect(checked).toBeGreaterThan(files.length / 2);
  });
});
