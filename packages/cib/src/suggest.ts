/**
 * "Did you mean ...?": the known names nearest to a name that was not found, for error messages
 * about unknown ids, agents, parameters and options. Pure.
 */

/**
 * Edit distance counting insertions, deletions, substitutions and swaps of two neighbouring
 * characters (optimal string alignment). Stops early and returns `max + 1` once the distance
 * is certain to exceed `max`.
 */
export function editDistance(a: string, b: string, max = Number.MAX_SAFE_INTEGER): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev2: number[] = [];
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row: number[] = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      row.push(d);
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > max) return max + 1;
    prev2 = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/** How far a name may be from `word` to be offered: one edit for short words, two from 5 characters, three from 10. */
function allowance(word: string): number {
  return word.length >= 10 ? 3 : word.length >= 5 ? 2 : 1;
}

/** The same name written differently: case, and `-` for `_` (crmsh and Pacemaker read both in places). */
function fold(name: string): string {
  return name.toLowerCase().replace(/_/g, '-');
}

/**
 * The candidates nearest `word`, best first, at most `limit`: a name equal apart from case or
 * `-`/`_` first, then names within a few edits (more for longer words), ties in the candidates'
 * order. `word` itself is never offered.
 */
export function nearestNames(word: string, candidates: Iterable<string>, limit = 3): string[] {
  const folded = fold(word);
  const max = allowance(word);
  const scored: { name: string; d: number; order: number }[] = [];
  const seen = new Set<string>();
  let order = 0;
  for (const name of candidates) {
    if (name === word || seen.has(name)) continue;
    seen.add(name);
    const f = fold(name);
    const d = f === folded ? 0 : editDistance(f, folded, max);
    if (d <= max) scored.push({ name, d, order: order++ });
  }
  scored.sort((x, y) => x.d - y.d || x.order - y.order);
  return scored.slice(0, limit).map((s) => s.name);
}

/** ` (did you mean "x"?)`, ` (did you mean "x" or "y"?)`, or '' when nothing is near. */
export function didYouMean(word: string, candidates: Iterable<string>, limit = 3): string {
  return suggestionText(nearestNames(word, candidates, limit));
}

/** ` (did you mean "x", "y" or "z"?)` for names already chosen; '' for none. */
export function suggestionText(near: readonly string[]): string {
  if (near.length === 0) return '';
  const quoted = near.map((n) => `"${n}"`);
  const list = quoted.length === 1 ? quoted[0]! : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]!}`;
  return ` (did you mean ${list}?)`;
}
