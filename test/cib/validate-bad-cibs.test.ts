import { describe, expect, it } from 'vitest';
import { validateCibText } from '../../packages/cib/src/validate.js';
import { BAD_CIBS, craftCib } from './bad-cibs.js';

describe('validateCib on crafted bad CIBs', () => {
  // The base CIB the bad ones are made from must be clean, or every case below proves nothing.
  it('finds nothing wrong with the base CIB', () => {
    expect(validateCibText(craftCib())).toEqual([]);
  });

  // Each crafted problem is reported with its stable code and Pacemaker's severity, naming an element.
  it.each(BAD_CIBS.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const diags = validateCibText(c.xml);
    const hit = diags.find((d) => d.code === c.code);
    expect(hit, `${c.why}: got ${JSON.stringify(diags)}`).toBeDefined();
    expect(hit?.severity).toBe(c.severity);
    expect(hit?.element).not.toBe('');
    expect(hit?.message.length).toBeGreaterThan(10);
    // Warning-only cases must not also carry an error: crm_verify accepts or only logs them.
    if (c.severity === 'warning') expect(diags.filter((d) => d.severity === 'error')).toEqual([]);
  });
});
