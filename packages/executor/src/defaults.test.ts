import { describe, expect, it } from 'vitest';
import { defaultActionsParallelMax } from './defaults.js';

describe('defaultActionsParallelMax', () => {
  it('is twice the cores, never below 4', () => {
    // Pacemaker's node-action-limit rule, with a floor so small nodes still run a group and probes at once.
    expect([0, 1, 2, 3, 8, 64].map(defaultActionsParallelMax)).toEqual([4, 4, 4, 6, 16, 128]);
  });
});
