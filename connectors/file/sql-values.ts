// DuckDB SQL that computes what columns.ts computes in JavaScript, value for value: coercing a raw
// CSV field or JSON value to a declared column type (`coerce`), the JavaScript string forms of
// numbers (`String(n)`, `JSON.stringify`), `trim()`, and the timestamp and date parsers. Each coercion
// gives three expressions — the typed value, `bad` (a value that columns.ts rejects) and `unsure`
// (where SQL may not match JavaScript; such a file is left to the read path). Pure: strings in,
// strings out. Literals are escaped here; values from files only ever arrive as column references.
import type { ColumnType } from './columns.ts';

/** A SQL string literal. DuckDB's standard strings have no backslash escapes: only `'` is doubled. */
export const lit = (text: string): string => `'${text.replace(/'/g, "''")}'`;
/** A quoted SQL identifier. */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

// String.prototype.trim() and \s: WhiteSpace and LineTerminator (ECMA-262 §12.2, §12.3).
const JS_SPACE = [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff];
/** The whitespace set as an RE2 character-class body. */
export const RE_SPACE = JS_SPACE.map((c) => `\\x{${c.toString(16)}}`).join('');
const SPACE_CHARS = lit(String.fromCodePoint(...JS_SPACE));

// DuckDB's trim() with a character set costs ~1 µs a value, and most values have no space at
// either end: looking the first and last characters up in the set says which do. (An IN list of
// the 25 code points was slower still: DuckDB's cost for wide IN lists grows with their number.)
const spaceAt = (ch: string) => `contains(${SPACE_CHARS}, ${ch})`;
export const jsTrim = (x: string): string =>
  `(case when ${spaceAt(`left(${x}, 1)`)} or ${spaceAt(`right(${x}, 1)`)} then trim(${x}, ${SPACE_CHARS}) else ${x} end)`;
/** `x.trim() === ''` for text (null for null). DuckDB evaluates every operand of AND/OR: CASE is what skips work. */
export const isBlank = (x: string): string => `(case when ${x} = '' then true when ${spaceAt(`left(${x}, 1)`)} then trim(${x}, ${SPACE_CHARS}) = '' else false end)`;

/** The SQL type a column's typed value has: timestamps and dates stay ISO text, as in the JS record. */
export type SqlKind = 'text' | 'bigint' | 'double' | 'boolean';
export const sqlKindOf = (type: ColumnType): SqlKind =>
  type === 'integer' ? 'bigint' : type === 'number' ? 'double' : type === 'boolean' ? 'boolean' : 'text';

const MAX_SAFE = '9007199254740991';

/**
 * `String(n)` for a DOUBLE: DuckDB's JSON writer prints the same shortest round-trip digits as
 * JavaScript; integral values lose its `.0`, and exponents get JavaScript's explicit `+`.
 */
export function jsNumber(d: string): string {
  const json = `to_json(${d})::varchar`;
  return `case when ${d} is null then null when isnan(${d}) then 'NaN' when isinf(${d}) then (case when ${d} > 0 then 'Infinity' else '-Infinity' end)
    when ${d} = trunc(${d}) and abs(${d}) < 1e21 then regexp_replace(${json}, '\\.0$', '')
    when ${d} = trunc(${d}) then replace(${json}, 'e', 'e+') else ${json} end`;
}

/** `String(v)` for a typed value. */
export function jsString(x: string, kind: SqlKind | 'null'): string {
  switch (kind) {
    case 'text':
      return x;
    case 'bigint':
      return `(${x})::varchar`;
    case 'double':
      return jsNumber(x);
    case 'boolean':
      return `(case when ${x} then 'true' when not ${x} then 'false' end)`;
    default:
      return 'null::varchar';
  }
}

/** `JSON.stringify(v)` for a typed value, `null` for null (non-finite numbers too, as in JS). */
export function jsJson(x: string, kind: SqlKind | 'null'): string {
  switch (kind) {
    case 'text':
      return `coalesce(to_json(${x})::varchar, 'null')`;
    case 'bigint':
      return `coalesce((${x})::varchar, 'null')`;
    case 'double':
      return `(case when ${x} is null or not isfinite(${x}) then 'null' else ${jsNumber(x)} end)`;
    case 'boolean':
      return `(case when ${x} then 'true' when not ${x} then 'false' else 'null' end)`;
    default:
      return `'null'`;
  }
}

const TS_FAST = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$';
// columns.ts TIMESTAMP, case-insensitive, with JavaScript's \s.
const TS_RE = `(?i)^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?)?[${RE_SPACE}]*(Z|UTC|[+-][0-9]{2}(?::?[0-9]{2})?)?$`;
const ISO = `'%Y-%m-%dT%H:%M:%S.%gZ'`;

/**
 * In timestamp and date results: "SQL may not give what JavaScript gives here" (a year below 100,
 * which Date.UTC reads as 19xx; a result outside years 0–9999, which toISOString writes as ±YYYYYY;
 * an epoch that Date cannot hold). No ISO text or date equals it.
 */
export const UNSURE = lit('?unsure');

const validClock = (y: string, mo: string, d: string, h: string, mi: string, s: string) =>
  `coalesce(case when ${mo} between 1 and 12 and ${d} >= 1 and ${h} between 0 and 23 and ${mi} between 0 and 59 and ${s} between 0 and 59 then ${d} <= day(last_day(make_date(${y}, ${mo}, 1))) else false end, false)`;

/** An instant in epoch milliseconds → toISOString(); UNSURE outside years 0–9999. */
const isoFromMs = (ms: string) => `(case when ${ms} between -62167219200000 and 253402300799999 then strftime(make_timestamp((${ms}) * 1000), ${ISO}) else ${UNSURE} end)`;

/** columns.ts parseTimestamp over text `x`: ISO text, null (INVALID) or UNSURE. */
export function parseTimestampSql(x: string): string {
  const t = jsTrim(x);
  const m = `regexp_extract(${t}, '${TS_RE}', ['y', 'mo', 'd', 'h', 'mi', 's', 'f', 'z'])`;
  // Fast path: exactly toISOString()'s form and a real date and time.
  const at = (from: number, to: number) => `try_cast((${x})[${from}:${to}] as int)`;
  const fast = `(case when regexp_matches(${x}, '${TS_FAST}') then ${validClock(at(1, 4), at(6, 7), at(9, 10), at(12, 13), at(15, 16), at(18, 19))} else false end)`;
  const p = (k: string) => `coalesce(try_cast(nullif(_m.${k}, '') as int), 0)`;
  const digits = `replace((_m.z)[2:], ':', '')`;
  const offset = `(case when _m.z = '' or upper(_m.z) in ('Z', 'UTC') then 0 else (case when (_m.z)[1] = '-' then -1 else 1 end) * (coalesce(try_cast((${digits})[1:2] as int), 0) * 60 + coalesce(try_cast(nullif((${digits})[3:], '') as int), 0)) end)`;
  const ms = `((make_date(${p('y')}, ${p('mo')}, ${p('d')}) - date '1970-01-01')::bigint * 86400000 + ((${p('h')} * 60 + ${p('mi')}) * 60 + ${p('s')}) * 1000 + coalesce(try_cast(nullif(rpad(left(_m.f, 3), 3, '0'), '') as int), 0) - ${offset} * 60000)`;
  const valid = `(case when regexp_matches(${t}, '${TS_RE}') then ${validClock(p('y'), p('mo'), p('d'), p('h'), p('mi'), p('s'))} else false end)`;
  // `_m` is the regexp's struct, bound once per value (only values off the fast path get here).
  const slow = `(list_transform([${m}], lambda _m: case when not ${valid} then null when ${p('y')} < 100 then ${UNSURE} else ${isoFromMs(ms)} end))[1]`;
  return `(case when ${fast} then ${x} else ${slow} end)`;
}

/** columns.ts parseDate over text `x`: YYYY-MM-DD, null (INVALID) or UNSURE (which `left(…, 10)` keeps). */
export function parseDateSql(x: string): string {
  const t = jsTrim(x);
  const year = `try_cast((${t})[1:4] as int)`;
  const validDay = validClock(year, `try_cast((${t})[6:7] as int)`, `try_cast((${t})[9:10] as int)`, '0', '0', '0');
  // Date.UTC reads years below 100 as 19xx: for the calendar check that only matters on 0000-02-29.
  return `(case when regexp_matches(${t}, '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then (case when not ${validDay} then null when ${year} = 0 and (${t})[6:10] = '02-29' then ${UNSURE} else ${t} end)
    else left(${parseTimestampSql(t)}, 10) end)`;
}

/** A raw value: its JSON kind (`s` string, `n` number, `b` boolean, `o` object/array, null: absent) and text. */
export interface RawValue {
  kind: string;
  /** The string's text (kind s), the number's literal (n), `true`/`false` (b). */
  text: string;
}

/** Whether a raw value is there at all: coerce() makes absent and blank values null, whatever the type. */
export const presentSql = ({ kind, text }: RawValue): string => `(${kind} is not null and not (${kind} = 's' and ${isBlank(text)}))`;

/**
 * columns.ts coerce(raw, type), for a present value (see presentSql): the typed value, null where
 * coerce() gives INVALID, and where SQL may differ — UNSURE (timestamp, date) or an infinite
 * number (Number("1e999"), which coerce() keeps). See settle().
 */
export function coerceSql(raw: RawValue, type: ColumnType): string {
  const { kind, text } = raw;
  const str = `${kind} = 's'`;
  const num = `${kind} = 'n'`;
  const bool = `${kind} = 'b'`;
  const d = `try_cast(${text} as double)`;
  const t = jsTrim(text);
  switch (type) {
    case 'string':
      return `(case when ${str} or ${bool} then ${text} when ${num} then ${jsNumber(d)} end)`;
    case 'integer':
      return `(case when ${str} then (case when regexp_matches(${t}, '^[+-]?[0-9]+$') and abs(try_cast(${t} as double)) <= ${MAX_SAFE} then try_cast(${t} as bigint) end)
        when ${num} then (case when isfinite(${d}) and ${d} = trunc(${d}) and abs(${d}) <= ${MAX_SAFE} then ${d}::bigint end) end)`;
    case 'number':
      return `(case when ${str} then (case when regexp_matches(${t}, '^[+-]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?$') then try_cast(${t} as double) end)
        when ${num} then (case when isfinite(${d}) then ${d} end) end)`;
    case 'boolean': {
      const w = `lower(${t})`;
      return `(case when ${bool} then ${text} = 'true' when ${num} then (case when ${d} = 1 then true when ${d} = 0 then false end)
        when ${str} then (case when ${w} in ('true', 't', 'yes', 'y', '1') then true when ${w} in ('false', 'f', 'no', 'n', '0') then false end) end)`;
    }
    case 'timestamp': {
      // Bare numbers are Unix epochs: seconds below 1e11, else milliseconds; Date truncates to ms,
      // and toISOString() throws past ±8.64e15 ms (the read path fails there: UNSURE).
      const ms = `(case when abs(${d}) < 1e11 then ${d} * 1000 else ${d} end)`;
      return `(case when ${str} then ${parseTimestampSql(text)}
        when ${num} then (case when not isfinite(${d}) then null when abs(${ms}) > 8.64e15 then ${UNSURE} else ${isoFromMs(`trunc(${ms})::bigint`)} end) end)`;
    }
    case 'date':
      return `(case when ${str} then ${parseDateSql(text)} end)`;
  }
}

/** A coerced result `r` (a column) → the typed value and `unsure`. */
export function settle(r: string, type: ColumnType): { value: string; unsure: string } {
  if (type === 'timestamp' || type === 'date') return { value: `nullif(${r}, ${UNSURE})`, unsure: `coalesce(${r} = ${UNSURE}, false)` };
  if (type === 'number') return { value: r, unsure: `coalesce(isinf(${r}), false)` };
  return { value: r, unsure: 'false' };
}
