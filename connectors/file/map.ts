// `maps_to`: a declarative mapping from a typed file record to canonical rows (events, identifier
// links, spend). The spec is data — column names, constants, value maps, conditions — so it can
// later be compiled to SQL for DuckDB's native readers; here it is compiled once per stream into a
// plain function. Pure. The expression language is documented in README.md ("Mapping").
import { ConfigError, RunError } from '../../core/errors.ts';
import type { CanonicalEvent, CanonicalRows, EventKind, Identifier, IdentifierLink, JsonObject, JsonValue, SpendRow } from '../../core/sdk/types.ts';
import { coerce, INVALID, parseDate, parseTimestamp } from './columns.ts';
import type { Column, ColumnType } from './columns.ts';

export type Literal = string | number | boolean | null;

/** The object forms of an expression. */
export type ExprObject =
  | { const: Literal }
  | { column: string; map?: Record<string, Literal>; default?: Literal }
  | { template: string; default?: Literal }
  | { when: Condition; then: Value; else?: Value }
  | { cases: { when: Condition; then: Value }[]; else?: Value };

/** In a field position a bare string names a column (`channel: utm_channel`). */
export type Expr = string | ExprObject;
/** In `then` / `else` a bare scalar is a literal (`then: conversion`); objects are expressions. */
export type Value = Literal | ExprObject;

export type Comparable = string | number;
export type Condition =
  | {
      column: string;
      equals?: Literal;
      in?: Literal[];
      not_in?: Literal[];
      present?: boolean;
      gt?: Comparable;
      gte?: Comparable;
      lt?: Comparable;
      lte?: Comparable;
    }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

/** identifier type → expression (or several, e.g. two email columns). */
export type IdentifiersSpec = Record<string, Expr | Expr[]>;

export interface EventSpec {
  /** Emit this event only for records where the condition holds. */
  when?: Condition;
  id?: Expr;
  occurred_at: Expr;
  kind: Expr;
  name: Expr;
  channel?: Expr;
  source_medium?: Expr;
  campaign_id?: Expr;
  campaign?: Expr;
  value?: Expr;
  currency?: Expr;
  session_id?: Expr;
  device?: Expr;
  identifiers?: IdentifiersSpec;
  /** Column names, or property name → expression. */
  properties?: string[] | Record<string, Expr>;
}

export interface LinkSpec {
  when?: Condition;
  id?: Expr;
  identifiers: IdentifiersSpec;
  observed_at?: Expr;
}

export interface SpendSpec {
  when?: Condition;
  date: Expr;
  channel: Expr;
  campaign_id: Expr;
  campaign?: Expr;
  cost: Expr;
  currency: Expr;
  clicks?: Expr;
  impressions?: Expr;
}

export interface MapsTo {
  event?: EventSpec | EventSpec[];
  link?: LinkSpec | LinkSpec[];
  spend?: SpendSpec | SpendSpec[];
}

/** A record that cannot become the canonical rows its mapping asks for. */
export class MappingError extends RunError {}

type Fn = (r: JsonObject) => JsonValue;
type Pred = (r: JsonObject) => boolean;

const KINDS: readonly string[] = ['touch', 'conversion', 'other'];
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Compiles expressions against the declared columns; every problem names its config path. */
class Compiler {
  readonly columns: Map<string, Column>;
  readonly where: string;

  constructor(columns: Column[], where: string) {
    this.columns = new Map(columns.map((c) => [c.name, c]));
    this.where = where;
  }

  fail(path: string, message: string, hint?: string): never {
    throw new ConfigError(`${this.where}.maps_to.${path}: ${message}`, { hint });
  }

  column(name: unknown, path: string): Column {
    const c = typeof name === 'string' ? this.columns.get(name) : undefined;
    if (!c) this.fail(path, `unknown column ${JSON.stringify(name)}`, `declared columns: ${[...this.columns.keys()].join(', ')}`);
    return c;
  }

  /** A field position: bare strings are columns. `literals` lists bare words taken as constants (kind). */
  expr(e: unknown, path: string, literals: readonly string[] = []): Fn {
    if (typeof e === 'string') {
      if (literals.includes(e)) return () => e;
      const name = this.column(e, path).name;
      return (r) => r[name];
    }
    if (isObj(e)) return this.object(e, path);
    this.fail(path, 'expected a column name or an expression object ({const}, {column}, {template}, {when}, {cases})');
  }

  /** A then/else position: scalars are literals. */
  value(v: unknown, path: string): Fn {
    if (isObj(v)) return this.object(v, path);
    if (v === undefined || v === null) return () => null;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return () => v;
    this.fail(path, 'expected a literal or an expression object');
  }

  object(e: Record<string, unknown>, path: string): Fn {
    const dflt = (e.default ?? null) as JsonValue;
    if ('const' in e) return () => e.const as JsonValue;
    if ('template' in e) return this.template(String(e.template), dflt, path);
    if ('cases' in e || 'when' in e) {
      // `{when, then, else}` is a one-case `cases`.
      const cases = 'cases' in e ? e.cases : [e];
      if (!Array.isArray(cases) || cases.length === 0) this.fail(`${path}.cases`, 'must list at least one { when, then }');
      const compiled = cases.map((c: Record<string, unknown>, i: number) => {
        const p = 'cases' in e ? `${path}.cases[${i}]` : path;
        return { test: this.condition(c.when, `${p}.when`), result: this.value(c.then, `${p}.then`) };
      });
      const otherwise = this.value(e.else, `${path}.else`);
      return (r) => {
        for (const c of compiled) if (c.test(r)) return c.result(r);
        return otherwise(r);
      };
    }
    if ('column' in e) {
      const name = this.column(e.column, `${path}.column`).name;
      if (isObj(e.map)) {
        const table = new Map(Object.entries(e.map as Record<string, JsonValue>));
        return (r) => {
          const v = r[name];
          const hit = v === null ? undefined : table.get(String(v));
          return hit === undefined ? dflt : hit;
        };
      }
      return (r) => r[name] ?? dflt;
    }
    this.fail(path, `unknown expression keys ${JSON.stringify(Object.keys(e))}`, 'use const, column, template, when/then/else or cases');
  }

  /** `{name} / {medium}`: null (or the default) when a referenced column is null. */
  template(text: string, dflt: JsonValue, path: string): Fn {
    const parts = text.split(/\{([^{}]+)\}/);
    const names = parts.filter((_, i) => i % 2 === 1).map((n) => this.column(n.trim(), `${path}.template`).name);
    if (names.length === 0) return () => text;
    return (r) => {
      let out = parts[0];
      for (let i = 0; i < names.length; i++) {
        const v = r[names[i]];
        if (v === null || v === undefined || v === '') return dflt;
        out += String(v) + parts[2 * i + 2];
      }
      return out;
    };
  }

  condition(c: unknown, path: string): Pred {
    if (!isObj(c)) this.fail(path, 'expected a condition object');
    if ('all' in c || 'any' in c) {
      const key = 'all' in c ? 'all' : 'any';
      const list = c[key];
      if (!Array.isArray(list) || list.length === 0) this.fail(`${path}.${key}`, 'must list at least one condition');
      const preds = list.map((x, i) => this.condition(x, `${path}.${key}[${i}]`));
      return key === 'all' ? (r) => preds.every((p) => p(r)) : (r) => preds.some((p) => p(r));
    }
    if ('not' in c) {
      const p = this.condition(c.not, `${path}.not`);
      return (r) => !p(r);
    }
    const col = this.column(c.column, `${path}.column`);
    const name = col.name;
    // Literals take the column's type once, here, so `in: ["1"]` matches an integer 1.
    const lit = (v: unknown, p: string): JsonValue => {
      const x = coerce(v, col.type);
      if (x === INVALID) this.fail(p, `${JSON.stringify(v)} is not a valid ${col.type} for column ${name}`);
      return x;
    };
    const tests: Pred[] = [];
    for (const [op, arg] of Object.entries(c)) {
      const p = `${path}.${op}`;
      if (op === 'column') continue;
      if (op === 'equals') {
        const v = lit(arg, p);
        tests.push((r) => r[name] === v);
      } else if (op === 'in' || op === 'not_in') {
        if (!Array.isArray(arg)) this.fail(p, 'expected a list');
        const set = new Set(arg.map((v, i) => lit(v, `${p}[${i}]`)));
        tests.push(op === 'in' ? (r) => r[name] !== null && set.has(r[name]) : (r) => r[name] === null || !set.has(r[name]));
      } else if (op === 'present') {
        tests.push(arg === false ? (r) => r[name] === null || r[name] === undefined : (r) => r[name] !== null && r[name] !== undefined);
      } else if (op === 'gt' || op === 'gte' || op === 'lt' || op === 'lte') {
        const v = lit(arg, p) as Comparable;
        const cmp = { gt: (a: Comparable) => a > v, gte: (a: Comparable) => a >= v, lt: (a: Comparable) => a < v, lte: (a: Comparable) => a <= v }[op];
        tests.push((r) => r[name] !== null && r[name] !== undefined && cmp(r[name] as Comparable));
      } else {
        this.fail(p, `unknown condition operator`, 'use equals, in, not_in, present, gt, gte, lt, lte (or all, any, not)');
      }
    }
    if (tests.length === 0) this.fail(path, `condition on column ${name} has no operator`, 'e.g. { column: stage, in: [closedwon] }');
    return tests.length === 1 ? tests[0] : (r) => tests.every((t) => t(r));
  }

  identifiers(spec: unknown, path: string): (r: JsonObject) => Identifier[] {
    if (!isObj(spec) || Object.keys(spec).length === 0) this.fail(path, 'list at least one identifier: { email: email_column }');
    const fns: { type: string; fn: Fn }[] = [];
    for (const [type, e] of Object.entries(spec)) {
      const list = Array.isArray(e) ? e : [e];
      list.forEach((x, i) => fns.push({ type, fn: this.expr(x, Array.isArray(e) ? `${path}.${type}[${i}]` : `${path}.${type}`) }));
    }
    return (r) => {
      const out: Identifier[] = [];
      for (const { type, fn } of fns) {
        const v = fn(r);
        // Null and blank values identify nobody.
        if (v === null || v === undefined) continue;
        const s = String(v);
        if (s.trim() !== '') out.push({ type, value: s });
      }
      return out;
    };
  }

  properties(spec: unknown, path: string): (r: JsonObject) => JsonObject {
    const entries: [string, Fn][] = Array.isArray(spec)
      ? spec.map((n, i) => [String(n), this.expr(n, `${path}[${i}]`)])
      : isObj(spec)
        ? Object.entries(spec).map(([k, e]) => [k, this.expr(e, `${path}.${k}`)])
        : this.fail(path, 'expected a list of columns or a map of name → expression');
    return (r) => {
      const out: JsonObject = {};
      for (const [k, fn] of entries) {
        const v = fn(r);
        if (v !== null && v !== undefined) out[k] = v;
      }
      return out;
    };
  }

}

/** Applies each row builder; a builder returns undefined when its `when:` does not hold. */
function run<T>(fns: ((r: JsonObject) => T | undefined)[], record: JsonObject): T[] {
  const rows: T[] = [];
  for (const f of fns) {
    const row = f(record);
    if (row !== undefined) rows.push(row);
  }
  return rows;
}

const str = (v: JsonValue): string | null => (v === null || v === undefined ? null : String(v));
const asList = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/**
 * Compiles a `maps_to` spec once into `record → canonical rows`. `where` prefixes config paths in
 * errors (`streams[2] (deals)`). At run time a record that cannot be mapped (an empty occurred_at, a
 * kind outside touch/conversion/other) throws, and the engine quarantines it with the message.
 */
export function compileMapping(spec: MapsTo | undefined, columns: Column[], primaryKey: string[], where: string): (record: JsonObject) => CanonicalRows {
  const c = new Compiler(columns, where);
  const [pk0] = primaryKey;
  const pkOf = primaryKey.length === 1 ? (r: JsonObject) => String(r[pk0]) : (r: JsonObject) => primaryKey.map((k) => String(r[k])).join(':');
  const fail = (r: JsonObject, field: string, problem: string): never => {
    throw new MappingError(`maps_to.${field} ${problem} (record ${pkOf(r)})`, { hint: 'declare the column required, or emit the row only `when:` it is present' });
  };
  const opt = (e: unknown, path: string): Fn | undefined => (e === undefined ? undefined : c.expr(e, path));
  const need = (s: Record<string, unknown>, field: string, path: string, literals?: readonly string[]): Fn => {
    if (s[field] === undefined) c.fail(path, `${field} is required`);
    return c.expr(s[field], `${path}.${field}`, literals);
  };
  const num = (r: JsonObject, field: string, v: JsonValue): number | null => {
    if (v === null || v === undefined) return null;
    const n = coerce(v, 'number');
    return n === INVALID ? fail(r, field, `${JSON.stringify(v)} is not a number`) : (n as number);
  };
  /** A timestamp column's values are already canonical ISO strings (columns.ts): no need to re-parse. */
  const isTimestampColumn = (e: unknown) => typeof e === 'string' && c.columns.get(e)?.type === 'timestamp';
  const time = (r: JsonObject, field: string, v: JsonValue, type: ColumnType): string => {
    const t = v === null || v === undefined ? INVALID : type === 'date' ? parseDate(String(v)) : typeof v === 'number' ? (coerce(v, 'timestamp') as string) : parseTimestamp(String(v));
    return t === INVALID ? fail(r, field, v === null || v === undefined ? 'is empty' : `${JSON.stringify(v)} is not a ${type}`) : t;
  };

  const events = asList(spec?.event).map((es, i) => {
    const path = Array.isArray(spec?.event) ? `event[${i}]` : 'event';
    if (!isObj(es)) c.fail(path, 'expected an object');
    const s = es as unknown as Record<string, unknown>;
    const when = s.when === undefined ? undefined : c.condition(s.when, `${path}.when`);
    const id = opt(s.id, `${path}.id`);
    const occurredAt = need(s, 'occurred_at', path);
    const occurredIsIso = isTimestampColumn(s.occurred_at);
    const kind = need(s, 'kind', path, KINDS);
    const name = need(s, 'name', path);
    const optionalFields = (['channel', 'source_medium', 'campaign_id', 'campaign', 'currency', 'session_id', 'device'] as const).filter((f) => s[f] !== undefined);
    const optionalFns = optionalFields.map((f) => c.expr(s[f], `${path}.${f}`));
    const value = opt(s.value, `${path}.value`);
    const ids = s.identifiers === undefined ? undefined : c.identifiers(s.identifiers, `${path}.identifiers`);
    const props = s.properties === undefined ? undefined : c.properties(s.properties, `${path}.properties`);
    return (r: JsonObject): CanonicalEvent | undefined => {
      if (when && !when(r)) return undefined;
      const k = kind(r);
      if (typeof k !== 'string' || !KINDS.includes(k)) fail(r, `${path}.kind`, `${JSON.stringify(k)} is not touch, conversion or other`);
      const n = str(name(r));
      if (!n) fail(r, `${path}.name`, 'is empty');
      const e: CanonicalEvent = {
        id: id ? (str(id(r)) ?? fail(r, `${path}.id`, 'is empty')) : i === 0 ? pkOf(r) : `${pkOf(r)}#${i}`,
        occurred_at: occurredIsIso ? ((occurredAt(r) as string | null) ?? fail(r, `${path}.occurred_at`, 'is empty')) : time(r, `${path}.occurred_at`, occurredAt(r), 'timestamp'),
        kind: k as EventKind,
        name: n as string,
      };
      for (let j = 0; j < optionalFields.length; j++) e[optionalFields[j]] = str(optionalFns[j](r));
      if (value) e.value = num(r, `${path}.value`, value(r));
      if (ids) e.identifiers = ids(r);
      if (props) e.properties = props(r);
      return e;
    };
  });

  const linkSpecs = asList(spec?.link);
  const links = linkSpecs.map((s, i) => {
    const path = Array.isArray(spec?.link) ? `link[${i}]` : 'link';
    if (!isObj(s)) c.fail(path, 'expected an object');
    const when = s.when === undefined ? undefined : c.condition(s.when, `${path}.when`);
    const id = opt(s.id, `${path}.id`);
    const ids = c.identifiers(s.identifiers, `${path}.identifiers`);
    const observed = opt(s.observed_at, `${path}.observed_at`);
    return (r: JsonObject): IdentifierLink | undefined => {
      if (when && !when(r)) return undefined;
      const identifiers = ids(r);
      // A link with no identifier left (all blank) says nothing.
      if (identifiers.length === 0) return undefined;
      const link: IdentifierLink = { identifiers };
      // One link per record: the engine keys it by the primary key. Several: `#n` keeps them apart.
      if (id) link.id = str(id(r)) ?? undefined;
      else if (linkSpecs.length > 1) link.id = `${pkOf(r)}#${i}`;
      if (observed) {
        const v = observed(r);
        link.observed_at = v === null || v === undefined ? null : time(r, `${path}.observed_at`, v, 'timestamp');
      }
      return link;
    };
  });

  const spend = asList(spec?.spend).map((ss, i) => {
    const path = Array.isArray(spec?.spend) ? `spend[${i}]` : 'spend';
    if (!isObj(ss)) c.fail(path, 'expected an object');
    const s = ss as unknown as Record<string, unknown>;
    const when = s.when === undefined ? undefined : c.condition(s.when, `${path}.when`);
    const date = need(s, 'date', path);
    const channel = need(s, 'channel', path);
    const campaignId = need(s, 'campaign_id', path);
    const cost = need(s, 'cost', path);
    const currency = need(s, 'currency', path);
    const campaign = opt(s.campaign, `${path}.campaign`);
    const clicks = opt(s.clicks, `${path}.clicks`);
    const impressions = opt(s.impressions, `${path}.impressions`);
    return (r: JsonObject): SpendRow | undefined => {
      if (when && !when(r)) return undefined;
      const row: SpendRow = {
        date: time(r, `${path}.date`, date(r), 'date'),
        channel: str(channel(r)) ?? fail(r, `${path}.channel`, 'is empty'),
        campaign_id: str(campaignId(r)) ?? fail(r, `${path}.campaign_id`, 'is empty'),
        cost: num(r, `${path}.cost`, cost(r)) ?? fail(r, `${path}.cost`, 'is empty'),
        currency: str(currency(r)) ?? fail(r, `${path}.currency`, 'is empty'),
      };
      if (campaign) row.campaign = str(campaign(r));
      if (clicks) row.clicks = num(r, `${path}.clicks`, clicks(r));
      if (impressions) row.impressions = num(r, `${path}.impressions`, impressions(r));
      return row;
    };
  });

  const map = (record: JsonObject): CanonicalRows => {
    const out: CanonicalRows = {};
    if (events.length > 0) out.events = run(events, record);
    if (links.length > 0) out.links = run(links, record);
    if (spend.length > 0) out.spend = run(spend, record);
    return out;
  };
  return map;
}
