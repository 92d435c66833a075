// Secret values come only from the environment (`${env:NAME}`). Anything that prints or stores text
// derived from a run passes it through `redact` with the pipeline's secret values first.

const MASK = '***';

/** Replaces every occurrence of each secret value (longest first) with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  if (secrets.length === 0 || text.length === 0) return text;
  let out = text;
  for (const secret of secrets.toSorted((a, b) => b.length - a.length)) {
    // Very short values (a port, "1") would mangle unrelated text and are not credentials.
    if (secret.length < 4) continue;
    out = out.split(secret).join(MASK);
  }
  return out;
}

/** Deep-copies a value with every string redacted (for --json and --dry-run output). */
export function redactValue<T>(value: T, secrets: readonly string[]): T {
  if (typeof value === 'string') return redact(value, secrets) as T;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, secrets)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactValue(v, secrets);
    return out as T;
  }
  return value;
}
