/**
 * The crm grammar never crashes: every corpus configure line, truncated after each word and
 * with each word removed, is either accepted or refused with a positioned error, and applying
 * what was accepted to a CIB never throws. A crash here would take the whole shell down on a typo.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../packages/cli/src/crm/parser.js';
import { ConfigSession } from '../../packages/cli/src/crm/session.js';
import { parseXml } from '@paceline/cib';
import { crmshCorpusDir, missing } from '../support/env.js';
import { corpusConfigureLines } from './support.js';

const why = missing({ paths: [crmshCorpusDir] });

describe.skipIf(!!why)(`crm grammar robustness ${why ?? ''}`, () => {
  // Mutilated corpus lines: parse and apply, counting outcomes; nothing may throw.
  it('refuses or accepts every mutilated corpus line without throwing', () => {
    const base = parseXml(readFileSync(join(crmshCorpusDir, 'cibtests', 'shadow.base'), 'utf8')).root;
    let accepted = 0;
    let refused = 0;
    for (const line of corpusConfigureLines(crmshCorpusDir)) {
      const variants = [];
      for (let i = 1; i < line.tokens.length; i++) {
        variants.push(line.tokens.slice(0, i));
        variants.push([...line.tokens.slice(0, i), ...line.tokens.slice(i + 1)]);
      }
      for (const v of variants) {
        const r = parseCommand(v, { ocf11: false });
        if (r.ok) {
          accepted++;
          new ConfigSession(base).add(r.node);
        } else {
          refused++;
          expect(r.line).toBeGreaterThan(0);
          expect(r.column).toBeGreaterThan(0);
          expect(r.message.length).toBeGreaterThan(0);
        }
      }
    }
    console.log(`crm robustness: ${accepted} variants accepted, ${refused} refused`);
    expect(refused).toBeGreaterThan(0);
  });
});
