import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance, nearestNames } from './suggest.js';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and swapped neighbours as one edit each', () => {
    expect(editDistance('Dummy', 'Dummy')).toBe(0);
    expect(editDistance('Dumy', 'Dummy')).toBe(1);
    expect(editDistance('Dummmy', 'Dummy')).toBe(1);
    expect(editDistance('Dammy', 'Dummy')).toBe(1);
    expect(editDistance('Dmumy', 'Dummy')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('gives up past the bound with bound + 1', () => {
    expect(editDistance('abcdefgh', 'zyxwvuts', 2)).toBe(3);
    expect(editDistance('a', 'abcdef', 2)).toBe(3);
  });
});

describe('nearestNames', () => {
  it('offers a name differing in case or dash/underscore before names a few edits away', () => {
    expect(nearestNames('target_role', ['target-roles', 'target-role'])).toEqual(['target-role', 'target-roles']);
    expect(nearestNames('Node1', ['node2', 'node1'])).toEqual(['node1', 'node2']);
  });

  it('allows more edits for longer words, and offers nothing far away', () => {
    expect(nearestNames('stat', ['state', 'fake', 'passwd'])).toEqual(['state']);
    expect(nearestNames('ip', ['cidr_netmask', 'nic'])).toEqual([]);
    expect(nearestNames('resource-stickyness', ['resource-stickiness', 'migration-threshold'])).toEqual(['resource-stickiness']);
    expect(nearestNames('vip', ['web', 'db'])).toEqual([]);
  });

  it('never offers the word itself, and keeps the candidates order for equal distances', () => {
    expect(nearestNames('rsc1', ['rsc1', 'rsc2', 'rsc3', 'rsc4'], 2)).toEqual(['rsc2', 'rsc3']);
  });
});

describe('didYouMean', () => {
  it('words the suggestion for a message', () => {
    expect(didYouMean('Dumy', ['Dummy'])).toBe(' (did you mean "Dummy"?)');
    expect(didYouMean('rsc', ['rsc1', 'rsc2'])).toBe(' (did you mean "rsc1" or "rsc2"?)');
    expect(didYouMean('rsc', ['rsc1', 'rsc2', 'rsc3'])).toBe(' (did you mean "rsc1", "rsc2" or "rsc3"?)');
    expect(didYouMean('zzz', ['Dummy'])).toBe('');
  });
});
