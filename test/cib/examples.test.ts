// The CIB examples users start from must be valid for paceline and for Pacemaker alike.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseXml, readCib, validateCib, type Resource } from '@paceline/cib';
import { missing, repoRoot } from '../support/env.js';

const dir = join(repoRoot, 'cib-examples');
const files = readdirSync(dir).filter((f) => f.endsWith('.xml'));

describe('cib-examples', () => {
  // Four scenarios are promised by the README; losing one should fail loudly.
  it('has the four promised examples', () => {
    expect(files.sort()).toEqual(['floating-ip.xml', 'lvs-director.xml', 'mysql-shared-storage.xml', 'web-shared-storage.xml']);
  });

  for (const f of files) {
    // Each example says what it is before any XML: users read the file first.
    it(`${f}: opens with a header comment, validates clean, names only ocf:paceline agents`, () => {
      const doc = parseXml(readFileSync(join(dir, f), 'utf8'));
      expect(doc.before[0]?.text).toContain(f);
      const errors = validateCib(doc.root).filter((d) => d.severity === 'error');
      expect(errors).toEqual([]);
      const cib = readCib(doc);
      const agents = new Set<string>();
      const visit = (r: Resource): void => {
        if (r.kind === 'primitive') agents.add(`${r.class}:${r.provider ?? ''}:${r.type}`);
        else if (r.kind === 'group') r.children.forEach(visit);
        else if ((r.kind === 'clone' || r.kind === 'master') && r.child) visit(r.child);
      };
      expect(cib.configuration?.resources?.resources.length).toBeGreaterThan(0);
      cib.configuration?.resources?.resources.forEach(visit);
      for (const a of agents) expect(a).toMatch(/^(ocf:paceline:|stonith::fence_)/);
    });
  }

  const why = missing({ tools: ['crm_verify'] });
  describe.skipIf(!!why)(`accepted by Pacemaker's crm_verify ${why ?? ''}`, () => {
    for (const f of files) {
      // Pacemaker itself must accept what we ship as an example.
      it(f, () => {
        const out = execFileSync('crm_verify', ['-V', '-x', join(dir, f)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        expect(out).not.toMatch(/error/i);
      });
    }
  });
});
