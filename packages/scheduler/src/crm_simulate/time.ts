/**
 * The two date forms crm_simulate needs: parsing `-t DATETIME` (ISO 8601 as crm_time_new reads
 * it: calendar `2014-05-07 00:28:00`, ordinal `2005-020T12:30`, week `2005-W03-4`, optional `Z` or
 * `+HH:MM`) and printing "Using the original execution date of: 2017-08-21 17:12:54Z".
 *
 * NEEDS-CIB: packages/cib/src/iso8601.ts has Pacemaker's full parser but is not exported from
 * @paceline/cib yet; switch to `parseIsoDateTime`/`formatTime` when it is.
 */
const DAY_SECONDS = 86_400;

function daysFromCivil(y: number, m: number, d: number): number {
  // Howard Hinnant's days_from_civil: days since 1970-01-01.
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z: number): { y: number; m: number; d: number } {
  const zz = z + 719468;
  const era = Math.floor(zz / 146097);
  const doe = zz - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

/** Epoch seconds of an ISO 8601 date/time, or undefined when it is not one. */
export function parseCrmTime(text: string): number | undefined {
  const t = text.trim();
  const m = /^(\d{4})-?(?:(\d{2})-?(\d{2})|(\d{3})|W(\d{2})-?(\d))(?:[T ](\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(t);
  if (!m) return undefined;
  const year = Number(m[1]);
  let days: number;
  if (m[2] !== undefined) days = daysFromCivil(year, Number(m[2]), Number(m[3]));
  else if (m[4] !== undefined) days = daysFromCivil(year, 1, 1) + Number(m[4]) - 1;
  else {
    // ISO week date: week 1 contains January 4th.
    const jan4 = daysFromCivil(year, 1, 4);
    const jan4Weekday = ((jan4 + 3) % 7 + 7) % 7; // 0 = Monday
    days = jan4 - jan4Weekday + (Number(m[5]) - 1) * 7 + (Number(m[6]) - 1);
  }
  const seconds = Number(m[7] ?? 0) * 3600 + Number(m[8] ?? 0) * 60 + Number(m[9] ?? 0);
  let offset = 0;
  const zone = m[10];
  if (zone !== undefined && zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (z) offset = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 3600 + Number(z[3] ?? 0) * 60);
  }
  return days * DAY_SECONDS + seconds - offset;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** `YYYY-MM-DD HH:MM:SSZ`, as crm_time_as_string(date | time of day) prints a UTC time. */
export function formatCrmTime(epochSec: number): string {
  const days = Math.floor(epochSec / DAY_SECONDS);
  const rest = epochSec - days * DAY_SECONDS;
  const { y, m, d } = civilFromDays(days);
  return `${String(y).padStart(4, '0')}-${two(m)}-${two(d)} ${two(Math.floor(rest / 3600))}:${two(Math.floor((rest % 3600) / 60))}:${two(rest % 60)}Z`;
}
