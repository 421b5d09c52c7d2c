import { describe, expect, it } from 'vitest';
import { parseDurationMs } from './duration.js';

describe('parseDurationMs', () => {
  it('reads Pacemaker and ISO 8601 durations, bare numbers as seconds', () => {
    // Agent meta-data and the CLI write timeouts in all these forms.
    const table: [string, number | undefined][] = [
      ['20', 20_000], ['20s', 20_000], ['20sec', 20_000], ['500ms', 500], ['2m', 120_000], ['2min', 120_000],
      ['1h', 3_600_000], [' 1.5s ', 1500], ['PT1M30S', 90_000], ['pt20s', 20_000], ['PT', undefined],
      ['', undefined], ['ten', undefined], ['5 parsecs', undefined], ['-1', undefined],
    ];
    for (const [text, ms] of table) expect([text, parseDurationMs(text)]).toEqual([text, ms]);
  });
});
