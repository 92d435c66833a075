// Diagnostics are the config layer's currency: each says where (file:line:col and the user's key path),
// what is wrong, and what to do. Parsing, schema validation, secret resolution and connector checks all
// produce them; the loader sorts them and throws them together as one ConfigErrors.
import { ConfigError, ConfigErrors } from '../errors.ts';
import type { Diagnostic } from './types.ts';

/** A path into a parsed document: object keys and array indices, e.g. `['sources', 1, 'config']`. */
export type JsonPath = readonly (string | number)[];

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** The path in the syntax users write it in: `sources[1].config.token`, `headers["X-Key"]`. */
export function formatPath(path: JsonPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** `file:line:col path: message`, plus `  hint: …` on a second line when there is a hint. */
export function formatDiagnostic(d: Diagnostic): string {
  return toConfigError(d).format();
}

/** The same text as formatDiagnostic, as an error with `where` and `hint` kept apart for --json. */
export function toConfigError(d: Diagnostic): ConfigError {
  return new ConfigError(d.path === '' ? d.message : `${d.path}: ${d.message}`, {
    where: `${d.file}:${d.line}:${d.col}`,
    hint: d.hint,
  });
}

/** Sorted by file and position, exact duplicates dropped (several checks can reach the same node). */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const unique = diagnostics.filter((d) => {
    const key = `${d.file}\0${d.line}\0${d.col}\0${d.path}\0${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.toSorted((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col));
}

/** One ConfigErrors carrying every diagnostic, in position order. */
export function diagnosticsError(diagnostics: readonly Diagnostic[]): ConfigErrors {
  return new ConfigErrors(sortDiagnostics(diagnostics).map(toConfigError));
}

/**
 * Optimal-string-alignment distance (Damerau-Levenshtein where a transposition counts as one edit),
 * compared case-insensitively: `strem`→`streams` is 2, `hubspt`→`hubspot` 1, `batchsize`→`batchSize` 0.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= t.length; j++) d[0][j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[s.length][t.length];
}

/**
 * The closest candidate, if it is close enough to be a likely typo: at most a third of the longer
 * word's letters differ (at least one edit is always allowed). Ties go to the earlier candidate.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const distance = editDistance(word, candidate);
    const allowed = Math.max(1, Math.floor(Math.max(word.length, candidate.length) / 3));
    if (distance <= allowed && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `did you mean "streams"?`, or undefined when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const match = closest(word, candidates);
  return match === undefined ? undefined : `did you mean "${match}"?`;
}
