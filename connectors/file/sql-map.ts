// `maps_to` compiled to SQL for the native load: the same expression language as map.ts, evaluated
// over a record's typed columns in DuckDB, with the same results — including the JavaScript
// conversions map.ts applies (String(v), the number and timestamp coercions) and the checks after
// it that quarantine a record (extract.ts toStoredRows). What SQL cannot reproduce exactly throws
// NotCompilable at compile time (the stream keeps the read path) or is flagged `unsure` per row.
//
// The output comes in two layers so that DuckDB computes each value once: `columns` (named SQL
// over the typed columns v0, v1 …) and, over those names, the flags and the final field values.
// Pure: config in, SQL text out.
import type { IdentifierSql } from '../../core/sdk/types.ts';
import { coerce, INVALID } from './columns.ts';
import type { Column } from './columns.ts';
import type { MapsTo } from './map.ts';
import { coerceSql, isBlank, jsJson, jsString, lit, sqlKindOf, UNSURE } from './sql-values.ts';
import type { SqlKind } from './sql-values.ts';

/** A mapping piece SQL cannot reproduce exactly: the stream is read the ordinary way. */
export class NotCompilable extends Error {}

type Kind = SqlKind | 'null';
interface Sql {
  sql: string;
  kind: Kind;
}

const KINDS = ['touch', 'conversion', 'other'];
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** OR of flags that may be null (null counts as false). */
export const anyOf = (parts: string[]): string => {
  const list = parts.filter((p) => p !== 'false');
  return list.length === 0 ? 'false' : `(${list.map((p) => `coalesce(${p}, false)`).join(' or ')})`;
};

export interface IdentifierOut {
  /** The type as written in the mapping. */
  type: string;
  /** Layer-1 column: the canonical text (IdentifierSql.normalize of the value map.ts passes on). */
  normalized: string;
  normalizer: IdentifierSql;
}
export interface EventOut {
  /** Final columns of the event, by stored field (id, occurred_at, kind …). */
  fields: Record<string, string>;
  /** Final condition: the event is emitted. */
  on: string;
  identifiers: IdentifierOut[];
}
export interface LinkOut {
  /** Final condition: map.ts emits the link (its `when` holds and an identifier is not blank). */
  emitted: string;
  /** Final: the link's id as toStoredRows settles it. */
  id: string;
  observedAt: string;
  identifiers: IdentifierOut[];
}
export interface SpendOut {
  on: string;
  fields: Record<string, string>;
}
export interface MappingSql {
  /** Layer 1: [name, SQL over v0, v1 …]. */
  columns: [string, string][];
  events: EventOut[];
  links: LinkOut[];
  spend: SpendOut[];
  /** Final: the record is quarantined by the mapping (MappingError, or toStoredRows's checks). */
  bad: string;
  /** Final: SQL may differ from map.ts for this record. */
  unsure: string;
}

/** Typed SQL references of the record's columns (the table the native load builds). */
export type ColumnRefs = Map<string, { ref: string; column: Column }>;

class SqlCompiler {
  readonly refs: ColumnRefs;
  readonly columns: [string, string][] = [];
  /** Layer-1 flags: true where SQL may differ. */
  readonly unsure: string[] = [];
  constructor(refs: ColumnRefs) {
    this.refs = refs;
  }

  /** Registers a layer-1 column; returns its name. */
  add(name: string, sql: string): string {
    this.columns.push([name, sql]);
    return name;
  }

  col(name: unknown): { ref: string; column: Column } {
    const c = typeof name === 'string' ? this.refs.get(name) : undefined;
    // map.ts has checked every name when the config loaded.
    if (!c) throw new NotCompilable(`unknown column ${JSON.stringify(name)}`);
    return c;
  }

  colSql(name: unknown): Sql {
    const c = this.col(name);
    return { sql: c.ref, kind: sqlKindOf(c.column.type) };
  }

  literal(v: unknown): Sql {
    if (v === null || v === undefined) return { sql: 'null', kind: 'null' };
    if (typeof v === 'string') return { sql: lit(v), kind: 'text' };
    if (typeof v === 'boolean') return { sql: v ? 'true' : 'false', kind: 'boolean' };
    if (typeof v === 'number' && Number.isFinite(v)) return { sql: `(${String(v)})::double`, kind: 'double' };
    throw new NotCompilable(`constant ${JSON.stringify(v)} is not a string, a finite number or a boolean`);
  }

  /** One SQL type for the branches of an expression; integers join doubles as JavaScript numbers do. */
  unify(branches: Sql[]): { kind: Kind; cast: (s: Sql) => string } {
    const kinds = new Set(branches.map((b) => b.kind).filter((k) => k !== 'null'));
    if (kinds.size === 0) return { kind: 'null', cast: (s) => s.sql };
    if (kinds.size === 1) {
      const [kind] = kinds;
      return { kind, cast: (s) => (s.kind === 'null' ? `null::${kind === 'text' ? 'varchar' : kind}` : s.sql) };
    }
    if (kinds.size === 2 && kinds.has('bigint') && kinds.has('double')) return { kind: 'double', cast: (s) => `(${s.sql})::double` };
    throw new NotCompilable(`an expression mixes ${[...kinds].join(' and ')} values`);
  }

  expr(e: unknown, literals: readonly string[] = []): Sql {
    if (typeof e === 'string') return literals.includes(e) ? { sql: lit(e), kind: 'text' } : this.colSql(e);
    if (isObj(e)) return this.object(e);
    throw new NotCompilable('expected a column name or an expression object');
  }

  value(v: unknown): Sql {
    return isObj(v) ? this.object(v) : this.literal(v);
  }

  object(e: Record<string, unknown>): Sql {
    const dflt = this.literal(e.default ?? null);
    if ('const' in e) return this.literal(e.const);
    if ('template' in e) return this.template(String(e.template), dflt);
    if ('cases' in e || 'when' in e) {
      const cases = ('cases' in e ? e.cases : [e]) as Record<string, unknown>[];
      const arms = cases.map((c) => ({ test: this.condition(c.when), result: this.value(c.then) }));
      const otherwise = this.value(e.else);
      const u = this.unify([...arms.map((a) => a.result), otherwise]);
      const sql = `(case ${arms.map((a) => `when ${a.test} then ${u.cast(a.result)}`).join(' ')} else ${u.cast(otherwise)} end)`;
      return { sql, kind: u.kind };
    }
    if ('column' in e) {
      const c = this.colSql(e.column);
      if (isObj(e.map)) {
        const entries = Object.entries(e.map).map(([k, v]) => ({ key: k, value: this.literal(v) }));
        const u = this.unify([...entries.map((x) => x.value), dflt]);
        if (entries.length === 0) return { sql: u.cast(dflt), kind: u.kind };
        // A null value is not looked up: the default.
        const sql = `(case ${jsString(c.sql, c.kind)} ${entries.map((x) => `when ${lit(x.key)} then ${u.cast(x.value)}`).join(' ')} else ${u.cast(dflt)} end)`;
        return { sql, kind: u.kind };
      }
      const u = this.unify([c, dflt]);
      return dflt.kind === 'null' ? c : { sql: `coalesce(${u.cast(c)}, ${u.cast(dflt)})`, kind: u.kind };
    }
    throw new NotCompilable(`unknown expression keys ${JSON.stringify(Object.keys(e))}`);
  }

  /** `{a} / {b}`: the default when a referenced value is null or empty. */
  template(text: string, dflt: Sql): Sql {
    const parts = text.split(/\{([^{}]+)\}/);
    const cols = parts.filter((_, i) => i % 2 === 1).map((n) => this.colSql(n.trim()));
    if (cols.length === 0) return { sql: lit(text), kind: 'text' };
    const u = this.unify([{ sql: '', kind: 'text' }, dflt]);
    const strs = cols.map((c) => jsString(c.sql, c.kind));
    const pieces: string[] = [];
    parts.forEach((p, i) => pieces.push(i % 2 === 0 ? lit(p) : strs[(i - 1) / 2]));
    // Typed values are never empty strings (blank is null): null is the only "missing".
    const missing = cols.map((c) => `${c.sql} is null`).join(' or ');
    return { sql: `(case when ${missing} then ${u.cast(dflt)} else concat(${pieces.join(', ')}) end)`, kind: 'text' };
  }

  /** A condition that is never null. */
  condition(c: unknown): string {
    if (!isObj(c)) throw new NotCompilable('expected a condition object');
    if ('all' in c || 'any' in c) {
      const key = 'all' in c ? 'all' : 'any';
      const list = (c[key] as unknown[]).map((x) => this.condition(x));
      return `(${list.join(key === 'all' ? ' and ' : ' or ')})`;
    }
    if ('not' in c) return `(not ${this.condition(c.not)})`;
    const { ref, column } = this.col(c.column);
    const kind = sqlKindOf(column.type);
    const typed = (v: unknown): string => {
      const x = coerce(v, column.type);
      if (x === INVALID) throw new NotCompilable(`${JSON.stringify(v)} is not a ${column.type}`);
      if (x === null) return 'null';
      return kind === 'text' ? lit(String(x)) : kind === 'boolean' ? String(x) : `(${String(x)})::${kind}`;
    };
    const tests: string[] = [];
    for (const [op, arg] of Object.entries(c)) {
      if (op === 'column') continue;
      if (op === 'equals') {
        const v = typed(arg);
        tests.push(v === 'null' ? `(${ref} is null)` : `coalesce(${ref} = ${v}, false)`);
      } else if (op === 'in' || op === 'not_in') {
        const values = [...new Set((arg as unknown[]).map(typed))].filter((v) => v !== 'null');
        if (op === 'in') tests.push(values.length === 0 ? 'false' : `coalesce(${ref} in (${values.join(', ')}), false)`);
        else tests.push(values.length === 0 ? 'true' : `(${ref} is null or ${ref} not in (${values.join(', ')}))`);
      } else if (op === 'present') {
        tests.push(arg === false ? `(${ref} is null)` : `(${ref} is not null)`);
      } else if (op === 'gt' || op === 'gte' || op === 'lt' || op === 'lte') {
        const v = typed(arg);
        const sign = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[op];
        tests.push(v === 'null' ? 'false' : `coalesce(${ref} ${sign} ${v}, false)`);
        // JavaScript orders strings by UTF-16 code units, DuckDB by code points: they differ only
        // above U+E000 (private use, CJK compatibility, specials, astral).
        if (kind === 'text') this.unsure.push(`regexp_matches(coalesce(${ref}, ''), '[\\x{E000}-\\x{10FFFF}]')`);
      } else {
        throw new NotCompilable(`unknown condition operator ${op}`);
      }
    }
    if (tests.length === 0) throw new NotCompilable('a condition without an operator');
    return tests.length === 1 ? tests[0] : `(${tests.join(' and ')})`;
  }
}

/** coerce(v, 'number') of map.ts `num`: layer-1 value (may be ±Infinity) and "INVALID" flag. */
function numSql(x: Sql): { value: string; invalid: string } {
  switch (x.kind) {
    case 'bigint':
      return { value: `(${x.sql})::double`, invalid: 'false' };
    case 'double':
      return { value: x.sql, invalid: `coalesce(not isfinite(${x.sql}), false)` };
    case 'text': {
      const present = `(${x.sql} is not null and not ${isBlank(x.sql)})`;
      const value = `(case when ${present} then ${coerceSql({ kind: `'s'`, text: x.sql }, 'number')} end)`;
      return { value, invalid: `(${present} and ${value} is null)` };
    }
    case 'boolean':
      return { value: 'null::double', invalid: `(${x.sql} is not null)` };
    default:
      return { value: 'null::double', invalid: 'false' };
  }
}

/** map.ts `time` over a value: layer-1 ISO text (or YYYY-MM-DD), null (empty or invalid) or UNSURE. */
function timeSql(x: Sql, type: 'timestamp' | 'date'): string {
  if (x.kind === 'text') return `(case when ${x.sql} is not null then ${coerceSql({ kind: `'s'`, text: x.sql }, type)} end)`;
  if ((x.kind === 'bigint' || x.kind === 'double') && type === 'timestamp') {
    return `(case when ${x.sql} is not null then ${coerceSql({ kind: `'n'`, text: `(${x.sql})::varchar` }, 'timestamp')} end)`;
  }
  // A boolean, or a number as a date: never a valid time (parse of "true", "20240101" …).
  return 'null::varchar';
}

/**
 * Compiles `spec` against the record's typed columns. `pk` is the record's stored primary key
 * (U+001F-joined), `identifierSql` the engine's normalisation per identifier type.
 */
export function compileMappingSql(
  spec: MapsTo | undefined,
  refs: ColumnRefs,
  primaryKey: string[],
  pk: string,
  identifierSql: (type: string) => IdentifierSql | undefined,
): MappingSql {
  const c = new SqlCompiler(refs);
  const bad: string[] = [];
  const unsure: string[] = [];
  const pkParts = primaryKey.map((k) => {
    const x = c.colSql(k);
    return jsString(x.sql, x.kind);
  });
  // map.ts pkOf: the key values joined with ':' (default event and link ids).
  const pkOf = pkParts.length === 1 ? pkParts[0] : `concat_ws(':', ${pkParts.join(', ')})`;
  const asList = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
  const str = (x: Sql) => jsString(x.sql, x.kind);
  const required = (s: Record<string, unknown>, field: string, literals?: readonly string[]) => c.expr(s[field], literals);

  const identifiers = (prefix: string, idSpec: unknown): { out: IdentifierOut[]; present: string[] } => {
    const out: IdentifierOut[] = [];
    const present: string[] = [];
    for (const [type, e] of Object.entries(idSpec as Record<string, unknown>)) {
      const normalizer = identifierSql(type);
      if (!normalizer) throw new NotCompilable(`identifiers of type ${type} are normalised in JavaScript only (phone numbers, hashed forms)`);
      for (const x of Array.isArray(e) ? e : [e]) {
        const s = str(c.expr(x));
        const j = out.length;
        // Null and blank values identify nobody (map.ts), before any normalisation.
        const raw = c.add(`${prefix}_r${j}`, `(case when ${s} is null or ${isBlank(s)} then null else ${s} end)`);
        present.push(`${raw} is not null`);
        out.push({ type, normalized: c.add(`${prefix}_i${j}`, normalizer.normalize(raw)), normalizer });
        const u = normalizer.unsure(raw);
        if (u !== 'false') unsure.push(c.add(`${prefix}_u${j}`, u));
      }
    }
    return { out, present };
  };

  const events = asList(spec?.event).map((es, i): EventOut => {
    const s = es as unknown as Record<string, unknown>;
    const p = `m_e${i}`;
    const on = c.add(`${p}_on`, s.when === undefined ? 'true' : c.condition(s.when));
    const kindExpr = required(s, 'kind', KINDS);
    const kind = c.add(`${p}_kind`, kindExpr.kind === 'text' ? kindExpr.sql : 'null::varchar');
    const name = c.add(`${p}_name`, str(required(s, 'name')));
    const id = c.add(`${p}_id`, s.id === undefined ? (i === 0 ? pkOf : `concat(${pkOf}, '#${i}')`) : str(c.expr(s.id)));
    // A timestamp column holds toISOString() text already; anything else goes through map.ts time().
    const iso = typeof s.occurred_at === 'string' && refs.get(s.occurred_at)?.column.type === 'timestamp';
    const occurredExpr = required(s, 'occurred_at');
    const occurred = c.add(`${p}_occurred_at`, iso ? occurredExpr.sql : timeSql(occurredExpr, 'timestamp'));
    const value = s.value === undefined ? undefined : numSql(c.expr(s.value));
    const valueCol = value ? c.add(`${p}_value`, value.value) : undefined;
    const valueInvalid = value ? c.add(`${p}_value_invalid`, value.invalid) : undefined;
    // MappingError in map.ts, then toStoredRows: an empty id, a value that is no finite number.
    bad.push(
      `(${on} and (${kind} is null or ${kind} not in ('touch', 'conversion', 'other') or ${name} is null or ${name} = '' or ${id} is null or ${id} = '' or ${occurred} is null${
        value ? ` or ${valueInvalid} or isinf(${valueCol})` : ''
      }))`,
    );
    unsure.push(`(${on} and ${occurred} = ${UNSURE})`);
    const fields: Record<string, string> = { id, occurred_at: occurred, kind, name };
    for (const f of ['channel', 'source_medium', 'campaign_id', 'campaign', 'currency', 'session_id', 'device']) {
      fields[f] = s[f] === undefined ? 'null::varchar' : c.add(`${p}_${f}`, str(c.expr(s[f])));
    }
    fields.value = valueCol ?? 'null::double';
    fields.properties = s.properties === undefined ? 'null::varchar' : c.add(`${p}_properties`, properties(c, s.properties));
    return { on, fields, identifiers: s.identifiers === undefined ? [] : identifiers(p, s.identifiers).out };
  });

  const linkSpecs = asList(spec?.link);
  const linkParts = linkSpecs.map((ls, i) => {
    const s = ls as unknown as Record<string, unknown>;
    const p = `m_l${i}`;
    const on = c.add(`${p}_on`, s.when === undefined ? 'true' : c.condition(s.when));
    const ids = identifiers(p, s.identifiers);
    const emitted = `(${on} and (${ids.present.join(' or ')}))`;
    const idExpr = s.id === undefined ? (linkSpecs.length > 1 ? `concat(${pkOf}, '#${i}')` : undefined) : str(c.expr(s.id));
    const idCol = idExpr ? c.add(`${p}_id`, idExpr) : undefined;
    let observedAt = 'null::varchar';
    if (s.observed_at !== undefined) {
      const x = c.expr(s.observed_at);
      const given = c.add(`${p}_observed_given`, `(${x.sql} is not null)`);
      observedAt = c.add(`${p}_observed_at`, timeSql(x, 'timestamp'));
      bad.push(`(${emitted} and ${given} and ${observedAt} is null)`);
      unsure.push(`(${emitted} and ${observedAt} = ${UNSURE})`);
    }
    return { emitted, idCol, observedAt, identifiers: ids.out };
  });
  // toStoredRows: a link without an id of its own is keyed by the record's primary key, with `#n`
  // (its place among the links the record emitted) when the record emitted several.
  const count = linkParts.map((l) => `(${l.emitted})::int`).join(' + ');
  const links = linkParts.map((l, i): LinkOut => {
    const before = i === 0 ? '0' : linkParts.slice(0, i).map((x) => `(${x.emitted})::int`).join(' + ');
    const fallback = `(case when ${count} > 1 then concat(${pk}, '#', ${before}) else ${pk} end)`;
    return { emitted: l.emitted, id: l.idCol ? `coalesce(${l.idCol}, ${fallback})` : fallback, observedAt: l.observedAt, identifiers: l.identifiers };
  });

  const spend = asList(spec?.spend).map((ss, i): SpendOut => {
    const s = ss as unknown as Record<string, unknown>;
    const p = `m_s${i}`;
    const on = c.add(`${p}_on`, s.when === undefined ? 'true' : c.condition(s.when));
    const date = c.add(`${p}_date`, timeSql(required(s, 'date'), 'date'));
    const channel = c.add(`${p}_channel`, str(required(s, 'channel')));
    const campaignId = c.add(`${p}_campaign_id`, str(required(s, 'campaign_id')));
    const cost = numSql(required(s, 'cost'));
    const costCol = c.add(`${p}_cost`, cost.value);
    const costInvalid = c.add(`${p}_cost_invalid`, cost.invalid);
    const currency = c.add(`${p}_currency`, str(required(s, 'currency')));
    const counts = (['clicks', 'impressions'] as const).map((f) => {
      if (s[f] === undefined) return undefined;
      const n = numSql(c.expr(s[f]));
      return { value: c.add(`${p}_${f}`, n.value), invalid: c.add(`${p}_${f}_invalid`, n.invalid) };
    });
    bad.push(
      `(${on} and (${date} is null or ${channel} is null or ${campaignId} is null or ${campaignId} = '' or ${costCol} is null or ${costInvalid} or isinf(${costCol}) or ${currency} is null${counts
        .map((n) => (n ? ` or ${n.invalid}` : ''))
        .join('')}))`,
    );
    // prepareBatch refuses (throws, not quarantines) counts that are not whole numbers: leave those to the read path.
    unsure.push(`(${on} and (${date} = ${UNSURE}${counts.map((n) => (n ? ` or ${n.value} <> trunc(${n.value})` : '')).join('')}))`);
    return {
      on,
      fields: {
        date,
        channel,
        campaign_id: campaignId,
        campaign: s.campaign === undefined ? 'null::varchar' : c.add(`${p}_campaign`, str(c.expr(s.campaign))),
        cost: costCol,
        currency,
        clicks: counts[0] ? counts[0].value : 'null::double',
        impressions: counts[1] ? counts[1].value : 'null::double',
      },
    };
  });

  unsure.push(...c.unsure.map((u, k) => c.add(`m_cmp_u${k}`, u)));
  return { columns: c.columns, events, links, spend, bad: anyOf(bad), unsure: anyOf(unsure) };
}

/** Event properties as JSON text: keys in JavaScript's property order, null values left out. */
function properties(c: SqlCompiler, spec: unknown): string {
  const entries: [string, Sql][] = Array.isArray(spec) ? spec.map((n) => [String(n), c.expr(n)]) : Object.entries(spec as Record<string, unknown>).map(([k, e]) => [k, c.expr(e)]);
  const names = entries.map(([k]) => k);
  if (new Set(names).size !== names.length || names.includes('__proto__')) throw new NotCompilable('properties repeat a name');
  const order = Object.keys(Object.fromEntries(names.map((k) => [k, 0])));
  const byName = new Map(entries);
  const members = order.map((k) => {
    const x = byName.get(k)!;
    return `case when ${x.sql} is not null then ${lit(`${JSON.stringify(k)}:`)} || ${jsJson(x.sql, x.kind)} end`;
  });
  return members.length === 0 ? `'{}'` : `concat('{', concat_ws(',', ${members.join(', ')}), '}')`;
}
