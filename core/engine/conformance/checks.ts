// The kit's checks, as pure functions over what a read returned: a connector's config schema, and
// per stream its records, keys, mapping and state. Each returns one CheckResult; the kit (kit.ts)
// does the reading. Validation and mapping go through the engine's own code (records.ts,
// extract.ts toStoredRows), so "passes the kit" means "the engine would store it".
import { validateWithSchema } from '../../config/validate.ts';
import { isTouchpointError } from '../../errors.ts';
import { compareCursor, startFrom } from '../../sdk/cursor.ts';
import { createRecordValidator, cursorValue, recordPk } from '../../sdk/records.ts';
import type { JsonObject, JsonSchema, StreamDefinition, StreamState } from '../../sdk/types.ts';
import { toStoredRows } from '../extract.ts';
import type { ReadResult } from './read.ts';

export type CheckStatus = 'pass' | 'fail' | 'n/a';

export interface CheckResult {
  check: string;
  /** The stream the check ran on; absent for connector-wide checks. */
  stream?: string;
  status: CheckStatus;
  detail: string;
}

const result = (check: string, status: CheckStatus, detail: string, stream?: string): CheckResult => ({ check, stream, status, detail });
const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** ajv strict compile of the config schema, and the harness's config valid against it. */
export function checkConfigSchema(schema: JsonSchema, config: JsonObject): CheckResult {
  try {
    const problems = validateWithSchema(schema, config, { file: 'fake/conformance config', locate: () => ({ line: 0, col: 0 }) });
    if (problems.length > 0) return result('config schema valid', 'fail', `the harness config does not match it: ${problems[0].path}: ${problems[0].message}`);
    return result('config schema valid', 'pass', 'compiles in ajv strict mode; the harness config matches it');
  } catch (error) {
    return result('config schema valid', 'fail', message(error));
  }
}

/** Every property the user can write has a description (docs are generated from them). */
export function checkConfigDocumented(schema: JsonSchema): CheckResult {
  const missing: string[] = [];
  // Alternatives (oneOf, if/then …) usually re-mention properties declared beside them to constrain
  // them: only a property declared nowhere else needs its own description there.
  const defs = (schema.$defs ?? {}) as Record<string, { description?: unknown }>;
  const refDescribed = (c: Record<string, unknown>) =>
    typeof c.$ref === 'string' && c.$ref.startsWith('#/$defs/') && typeof defs[c.$ref.slice(8)]?.description === 'string';
  const walk = (node: unknown, path: string, declared: ReadonlySet<string>): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    const props = (n.properties as Record<string, unknown>) ?? {};
    const here = new Set([...declared, ...Object.keys(props)]);
    for (const [key, child] of Object.entries(props)) {
      const c = child as Record<string, unknown>;
      const described = typeof c === 'object' && c !== null && ((typeof c.description === 'string' && c.description.trim() !== '') || refDescribed(c));
      if (!described && !declared.has(key)) missing.push(`${path}${key}`);
      walk(child, `${path}${key}.`, new Set());
    }
    for (const k of ['items', 'additionalProperties']) if (typeof n[k] === 'object') walk(n[k], k === 'items' ? `${path.replace(/\.$/, '')}[].` : path, new Set());
    for (const k of ['oneOf', 'anyOf', 'allOf']) if (Array.isArray(n[k])) for (const alt of n[k] as unknown[]) walk(alt, path, here);
    for (const k of ['if', 'then', 'else', 'not']) if (typeof n[k] === 'object') walk(n[k], path, here);
    for (const [name, def] of Object.entries((n.$defs as Record<string, unknown>) ?? {})) walk(def, `$defs.${name}.`, new Set());
  };
  walk(schema, '', new Set());
  const unique = [...new Set(missing)];
  return unique.length === 0
    ? result('config documented', 'pass', 'every property has a description')
    : result('config documented', 'fail', `no description: ${unique.slice(0, 5).join(', ')}${unique.length > 5 ? ` (+${unique.length - 5})` : ''}`);
}

/** The read finished, yielded records, and every record matches the stream's schema. */
export function checkRecords(stream: StreamDefinition<any, any>, run: ReadResult): CheckResult {
  const name = 'records match schema';
  if (run.error) return result(name, 'fail', `the read failed: ${message(run.error)}`, stream.name);
  if (run.records.length === 0) return result(name, 'fail', 'the fake served no records: add fixtures so the kit has something to check', stream.name);
  let validate: ReturnType<typeof createRecordValidator>;
  try {
    validate = createRecordValidator(stream.schema, stream.name);
  } catch (error) {
    return result(name, 'fail', message(error), stream.name);
  }
  const bad = run.records.map((r, i) => [i, validate(r)] as const).filter(([, why]) => why !== undefined);
  if (bad.length > 0) return result(name, 'fail', `${bad.length} of ${run.records.length} invalid; record ${bad[0][0]}: ${bad[0][1]}`, stream.name);
  return result(name, 'pass', `${run.records.length} records${run.rejected > 0 ? `, ${run.rejected} rejected by the connector` : ''}`, stream.name);
}

export function checkPrimaryKeys(stream: StreamDefinition<any, any>, run: ReadResult): CheckResult {
  const name = 'primary keys unique';
  if (run.error || run.records.length === 0) return result(name, 'n/a', 'no records', stream.name);
  const seen = new Set<string>();
  for (const r of run.records) {
    const pk = recordPk(r, stream.primaryKey);
    if (typeof pk !== 'string') return result(name, 'fail', pk.error, stream.name);
    if (seen.has(pk)) return result(name, 'fail', `[${stream.primaryKey.join(', ')}] = ${pk.replaceAll('\u001f', ', ')} appears twice in one run`, stream.name);
    seen.add(pk);
  }
  return result(name, 'pass', `${seen.size} distinct [${stream.primaryKey.join(', ')}]`, stream.name);
}

/** Every record maps to canonical rows the engine accepts (extract.ts toStoredRows). */
export function checkMapping(stream: StreamDefinition<any, any>, run: ReadResult, config: JsonObject): CheckResult {
  const name = 'mapping valid';
  if (!stream.map) return result(name, 'n/a', 'no map: the stream is kept raw only', stream.name);
  if (run.error || run.records.length === 0) return result(name, 'n/a', 'no records', stream.name);
  const counts = { events: 0, links: 0, spend: 0 };
  for (const record of run.records) {
    const pk = recordPk(record, stream.primaryKey);
    if (typeof pk !== 'string') continue;
    let rows: ReturnType<typeof toStoredRows>;
    try {
      rows = toStoredRows(stream.map(record, { source: 'conformance', stream: stream.name, config }), 'conformance', stream.name, pk);
    } catch (error) {
      rows = `mapping threw: ${message(error)}`;
    }
    if (typeof rows === 'string') return result(name, 'fail', `record ${pk.replaceAll('\u001f', ', ')}: ${rows}`, stream.name);
    counts.events += rows.events.length;
    counts.links += rows.links.length;
    counts.spend += rows.spend.length;
  }
  return result(name, 'pass', `${counts.events} events, ${counts.links} links, ${counts.spend} spend rows`, stream.name);
}

/** `state.cursor` (where a stream keeps one) never moves back, within a run and into the next. */
export function checkStateForward(stream: StreamDefinition<any, any>, first: ReadResult, second: ReadResult): CheckResult {
  const name = 'state moves forward';
  if (first.error) return result(name, 'n/a', 'the first read failed', stream.name);
  if (first.states.length === 0) return result(name, 'n/a', 'no state: the stream re-reads everything each run', stream.name);
  if (second.error) return result(name, 'fail', `the second (incremental) run failed: ${message(second.error)}`, stream.name);
  const cursors = [...first.states, ...second.states].map((s) => s.cursor).filter((c): c is string | number => typeof c === 'string' || typeof c === 'number');
  for (let i = 1; i < cursors.length; i++) {
    let order: number;
    try {
      order = compareCursor(cursors[i], cursors[i - 1]);
    } catch (error) {
      return result(name, 'fail', message(error), stream.name);
    }
    if (order < 0) return result(name, 'fail', `state.cursor went back from ${JSON.stringify(cursors[i - 1])} to ${JSON.stringify(cursors[i])}`, stream.name);
  }
  const last = cursors.at(-1);
  return result(name, 'pass', last === undefined ? `${first.states.length} states (no state.cursor)` : `cursor ${JSON.stringify(last)}`, stream.name);
}

/**
 * A second run with the first run's state re-reads nothing it already stored, except at the boundary:
 * records whose cursor is at or after the committed `state.cursor` (an inclusive query), minus the
 * stream's declared lookback. Re-read records are upserted by primary key, so they never duplicate;
 * a record re-read from before that window means the state was not used.
 */
export function checkSecondRun(stream: StreamDefinition<any, any>, first: ReadResult, second: ReadResult, startDate?: string): CheckResult {
  const name = 'second run no duplicates';
  if (first.error || first.states.length === 0) return result(name, 'n/a', 'not incremental', stream.name);
  if (second.error) return result(name, 'fail', `the second run failed: ${message(second.error)}`, stream.name);
  const before = new Set(first.records.map((r) => recordPk(r, stream.primaryKey)).filter((k) => typeof k === 'string'));
  const state: StreamState = first.states.at(-1)!;
  const scalar = typeof state.cursor === 'string' || typeof state.cursor === 'number';
  let from: string | number | undefined;
  if (scalar && stream.cursor) {
    from = stream.cursor.lookback ? startFrom({ state, cursor: stream.cursor, options: { startDate }, fullRefresh: false }) : (state.cursor as string | number);
  }
  const seen = new Set<string>();
  let reread = 0;
  for (const r of second.records) {
    const pk = recordPk(r, stream.primaryKey);
    if (typeof pk !== 'string') continue;
    const shown = pk.replaceAll('\u001f', ', ');
    if (seen.has(pk)) return result(name, 'fail', `${shown} appears twice in the second run`, stream.name);
    seen.add(pk);
    if (!before.has(pk)) continue;
    reread++;
    if (from === undefined) continue;
    const at = cursorValue(r, stream.cursor!.field);
    if (at === undefined || before_(at, from)) {
      return result(name, 'fail', `re-read ${shown} (${stream.cursor!.field} ${JSON.stringify(at)}), from before the committed cursor ${JSON.stringify(from)}`, stream.name);
    }
  }
  if (from === undefined && reread > 1 && reread === before.size) {
    return result(name, 'fail', `the second run re-read all ${reread} records: the committed state was not used`, stream.name);
  }
  const window = from === undefined ? '' : stream.cursor?.lookback ? ` inside the ${stream.cursor.lookback} lookback` : ' at the cursor boundary';
  return result(name, 'pass', `${second.records.length} records${reread > 0 ? ` (${reread} re-read${window}, upserted)` : ''}`, stream.name);
}

/** at < from; values of different shapes (a YYYYMMDD field, a YYYY-MM-DD state) are not judged. */
function before_(at: string | number, from: string | number): boolean {
  try {
    return compareCursor(at, from) < 0;
  } catch {
    return false;
  }
}

/** Persistent 401s end the read with an AuthError that says what to do. */
export function checkUnauthorized(stream: string, run: ReadResult): CheckResult {
  const name = '401 → AuthError';
  const e = run.error;
  if (!e) return result(name, 'fail', 'the read succeeded although every request was refused with 401', stream);
  if (!isTouchpointError(e) || e.name !== 'AuthError') return result(name, 'fail', `threw ${e instanceof Error ? e.name : typeof e} instead: ${message(e)}`, stream);
  if (!e.hint) return result(name, 'fail', `AuthError without a hint: ${e.message}`, stream);
  return result(name, 'pass', `${e.message.slice(0, 80)}`, stream);
}

/** One 429 with Retry-After: 2 is waited out (through the SDK's retry) and the read completes. */
export function checkRateLimited(stream: string, baseline: ReadResult, run: ReadResult): CheckResult {
  const name = '429 Retry-After honoured';
  if (run.error) return result(name, 'fail', `the read failed: ${message(run.error)}`, stream);
  if (!run.sleeps.includes(2000)) return result(name, 'fail', `Retry-After: 2 was not waited through ctx.http (waits: ${JSON.stringify(run.sleeps)})`, stream);
  if (run.records.length !== baseline.records.length) return result(name, 'fail', `${run.records.length} records instead of ${baseline.records.length}`, stream);
  return result(name, 'pass', `waited 2000 ms, then ${run.records.length} records`, stream);
}

/** Two 503s are retried and the read completes with every record. */
export function checkServerError(stream: string, baseline: ReadResult, run: ReadResult): CheckResult {
  const name = '5xx retried';
  if (run.error) return result(name, 'fail', `the read failed: ${message(run.error)}`, stream);
  if (run.sleeps.length < 2) return result(name, 'fail', `the 503s were not retried through ctx.http (waits: ${JSON.stringify(run.sleeps)})`, stream);
  if (run.records.length !== baseline.records.length) return result(name, 'fail', `${run.records.length} records instead of ${baseline.records.length}`, stream);
  return result(name, 'pass', `retried twice, then ${run.records.length} records`, stream);
}
