import { describe, expect, it } from 'vitest';
import { SimClock } from './clock.js';

describe('SimClock', () => {
  it('fires timers in due order, ties by creation, including timers set while advancing', () => {
    // Deterministic order is what makes the executor's unit tests reproducible.
    const clock = new SimClock();
    const log: string[] = [];
    clock.setTimer(20, () => log.push(`b@${clock.monotonicMs()}`));
    clock.setTimer(10, () => {
      log.push(`a@${clock.monotonicMs()}`);
      clock.setTimer(5, () => log.push(`c@${clock.monotonicMs()}`));
    });
    const d = clock.setTimer(20, () => log.push('d'));
    clock.setTimer(20, () => log.push(`e@${clock.monotonicMs()}`));
    clock.clearTimer(d);
    clock.advance(19);
    expect(log).toEqual(['a@10', 'c@15']);
    clock.advance(1);
    expect(log).toEqual(['a@10', 'c@15', 'b@20', 'e@20']);
    expect(clock.monotonicMs()).toBe(20);
    expect(clock.wallMs() - clock.monotonicMs()).toBe(1_700_000_000_000);
  });
});
