/**
 * Durations as Pacemaker and crmsh write them: `20` (seconds), `500ms`, `20s`, `20sec`, `2m`,
 * `2min`, `1h`, `1hr`, and ISO 8601 `PT1M30S`. Returns milliseconds, or undefined when the text
 * is not a duration.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  '': 1000,
  ms: 1,
  msec: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
};

export function parseDurationMs(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  const simple = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(t);
  if (simple) {
    const unitMs = UNIT_MS[simple[2] ?? ''];
    if (unitMs === undefined) return undefined;
    return Math.round(Number(simple[1]) * unitMs);
  }
  const iso = /^pt(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(t);
  if (iso && t !== 'pt') {
    return Math.round((Number(iso[1] ?? 0) * 3600 + Number(iso[2] ?? 0) * 60 + Number(iso[3] ?? 0)) * 1000);
  }
  return undefined;
}
