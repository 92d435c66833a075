// The SQL of a native load, per file: DuckDB reads the file (NDJSON as raw lines, CSV with every
// column as VARCHAR), and one statement turns it into a table of records — typed as columns.ts
// types them, with the flags that decide each row's fate (rejected by parsing, quarantined by the
// engine's checks, unsure: SQL may differ from JavaScript), the stored key, cursor and JSON, and
// every mapping output. Views over that table are what the store writes. Pure.
import type { IdentifierSql } from '../../core/sdk/types.ts';
import type { Column } from './columns.ts';
import type { ColumnRefs, IdentifierOut, MappingSql } from './sql-map.ts';
import { anyOf, compileMappingSql } from './sql-map.ts';
import { coerceSql, ident, isBlank, jsJson, jsString, lit, presentSql, settle, sqlKindOf, UNSURE } from './sql-values.ts';
import type { MapsTo } from './map.ts';

/** How a stream's records are laid out, fixed for the whole stream. */
export interface RecordPlan {
  columns: Column[];
  primaryKey: string[];
  cursor?: Column;
  mapping: MappingSql;
}

/** Compiles what does not depend on the file; throws NotCompilable (sql-map.ts) when SQL cannot do it. */
export function planRecords(
  columns: Column[],
  primaryKey: string[],
  cursor: Column | undefined,
  mapsTo: MapsTo | undefined,
  identifierSql: (type: string) => IdentifierSql | undefined,
): RecordPlan {
  const refs: ColumnRefs = new Map(columns.map((c, i) => [c.name, { ref: `v${i}`, column: c }]));
  // The stored key is the record table's `_pk` column (see recordTableSql).
  const mapping = compileMappingSql(mapsTo, refs, primaryKey, '_pk', identifierSql);
  return { columns, primaryKey, cursor, mapping };
}

export interface FileRead {
  path: string;
  gzip: boolean;
  format: 'ndjson' | 'csv';
  /** CSV: the file's header names in order (or the declared columns when it has none). */
  header?: string[];
  /** CSV without a header: fields are taken in the order of the declared columns. */
  positional?: boolean;
  /** CSV: physical lines before the first record (the header's). */
  skip?: number;
  delimiter?: string;
  quote?: string;
  rejectsTable: string;
  rejectsScan: string;
}

/** The table function reading the file, rows numbered in file order (DuckDB keeps it: row_number() over ()). */
export function readSql(f: FileRead): string {
  const common = `auto_detect = false, compression = ${lit(f.gzip ? 'gzip' : 'none')}, store_rejects = true, rejects_table = ${lit(f.rejectsTable)}, rejects_scan = ${lit(f.rejectsScan)}`;
  if (f.format === 'ndjson') {
    // Lines, whole: no delimiter (NUL cannot occur in JSON text), no quoting, empty lines kept as NULL.
    return `select row_number() over () as _rn, line from read_csv(${lit(f.path)}, columns = {'line': 'VARCHAR'}, header = false, delim = chr(0), quote = '', escape = '', ${common})`;
  }
  const columns = (f.header ?? []).map((_, i) => `'c${i}': 'VARCHAR'`).join(', ');
  return `select row_number() over () as _rn, * from read_csv(${lit(f.path)}, columns = {${columns}}, header = false, skip = ${f.skip ?? 0},
    delim = ${lit(f.delimiter ?? ',')}, quote = ${lit(f.quote ?? '"')}, escape = ${lit(f.quote ?? '"')}, ${common})`;
}

const reEscape = (text: string) => text.replace(/[\\^$.*+?()[\]{}|/-]/g, (c) => `\\${c}`);

/**
 * CSV: physical lines with spaces between a delimiter and a quote. DuckDB's reader drops them and
 * reads the field as quoted; the read path's (RFC 4180) takes ` "x"` as text and rejects `"x" ,`.
 */
export function csvSpacedQuotesSql(f: FileRead): string {
  const q = reEscape(f.quote ?? '"');
  const d = reEscape(f.delimiter ?? ',');
  // Not strict: any line ending will do here (the fields come from the real read).
  const lines = readSql({ ...f, format: 'ndjson' }).replace('header = false,', 'header = false, strict_mode = false,');
  return `select count(*) as n from (${lines}) where case when contains(line, ${lit(f.quote ?? '"')}) then regexp_matches(line, ${lit(`(^|${d}) +${q}|${q} +(${d}|$)`)}) else false end`;
}

/** NDJSON: a JSON value's kind and text from its JSON text `jv` (see sql-values.ts RawValue). */
function jsonValue(jv: string): { kind: string; text: string } {
  return {
    kind: `(case when ${jv} is null or ${jv} = 'null' then null when left(${jv}, 1) = '"' then 's' when left(${jv}, 1) in ('{', '[') then 'o' when ${jv} in ('true', 'false') then 'b' else 'n' end)`,
    text: `(case when left(${jv}, 1) = '"' then (case when contains(${jv}, '\\') then (${jv})::json ->> '$' else (${jv})[2:-2] end) else ${jv} end)`,
  };
}

/** The JSON path of a `from` dot path below its first key, each key quoted. */
const jsonPath = (keys: string[]) => `$${keys.map((k) => `.${JSON.stringify(k)}`).join('')}`;

export interface RecordTableOptions {
  plan: RecordPlan;
  read: FileRead;
  /** Cursor mode: keep rows whose cursor is null or at least this (the column's representation). */
  threshold?: string | number | null;
}

/**
 * `create temp table <name> as …`: one row per line (NDJSON) or record (CSV), built in layers (raw
 * values, coerced, typed, mapped) so that each expression is written once. Materialising the layers
 * (`as materialized`) cost more than it saved: DuckDB shares the common subexpressions itself.
 */
export function recordTableSql(name: string, o: RecordTableOptions): string {
  const { plan, read } = o;
  const { columns, mapping } = plan;
  const ctes: string[] = [`src as (${readSql(read)})`];
  let values: { kind: string; text: string }[];
  let from: string;
  let lineFlags: { blank: string; bad: string; unsure: string };
  if (read.format === 'ndjson') {
    const tops = [...new Set(columns.map((c) => c.from.split('.')[0]))];
    const struct = `{${tops.map((k) => `${JSON.stringify(k)}: "JSON"`).join(', ')}}`;
    // DuckDB's JSON reader also takes NaN, Infinity and trailing commas, which JSON.parse rejects:
    // lines that look like that are treated as bad here, and the file's check against the JS parser
    // settles them (the same text inside a string only costs that check).
    const loose = `(case when (contains(line, 'NaN') or contains(line, 'Infinity') or contains(line, ',}') or contains(line, ',]') or contains(line, ', ') or contains(line, ',' || chr(9)) or contains(line, ',' || chr(13)))
      then regexp_matches(line, '[:,\\[][ \\t\\n\\r]*-?(?:NaN|Infinity)[ \\t\\n\\r]*[,}\\]]|,[ \\t\\n\\r]*[}\\]]') else false end)`;
    const object = `(json_valid(line) and left(ltrim(line, ' ' || chr(9) || chr(10) || chr(13)), 1) = '{' and not ${loose})`;
    ctes.push(`parsed as (select _rn, (line is null or ${isBlank('line')}) as _blank, case when line is not null and ${object} then from_json(line, ${lit(struct)}) end as _j from src)`);
    from = 'parsed';
    values = columns.map((c) => {
      const [top, ...rest] = c.from.split('.');
      const jv = `(_j.${ident(top)})::varchar`;
      return jsonValue(rest.length === 0 ? jv : `(case when left(${jv}, 1) = '{' then json_extract(${jv}, ${lit(jsonPath(rest))})::varchar end)`);
    });
    lineFlags = { blank: '_blank', bad: '(not _blank and _j is null)', unsure: 'false' };
  } else {
    from = 'src';
    const header = read.header ?? [];
    values = columns.map((c, i) => {
      const at = read.positional ? i : header.indexOf(c.from);
      return at === -1 ? { kind: 'null::varchar', text: 'null::varchar' } : { kind: `(case when c${at} is not null then 's' end)`, text: `c${at}` };
    });
    // The read path splits lines at LF and drops a CR before it, inside quoted fields too: a CR
    // anywhere in a field is where DuckDB's value may differ. With a single field per line, DuckDB
    // reads an empty line as a null row where the read path skips it.
    const single = header.length === 1 ? ['c0 is null', isBlank('c0')] : [];
    lineFlags = { blank: 'false', bad: 'false', unsure: anyOf([...header.map((_, i) => `contains(c${i}, chr(13))`), ...single]) };
  }
  const keep = ['_rn', '_blank', '_badline', '_u_line'].join(', ');
  ctes.push(`vals as (select _rn, ${lineFlags.blank} as _blank, ${lineFlags.bad} as _badline, ${lineFlags.unsure} as _u_line,
    ${values.map((v, i) => `${v.kind} as k${i}, ${v.text} as t${i}`).join(', ')} from ${from})`);
  const raw = (i: number) => ({ kind: `k${i}`, text: `t${i}` });
  ctes.push(`typed as (select ${keep},
    ${columns.map((c, i) => `${presentSql(raw(i))} as p${i}, case when ${presentSql(raw(i))} then ${coerceSql(raw(i), c.type)} end as r${i}`).join(',\n    ')}
    from vals)`);
  // Per column only the typed value goes on; the checks fold into two flags per row.
  const settled = columns.map((c, i) => settle(`r${i}`, c.type));
  ctes.push(`clean as (select _rn, _blank,
    (_badline or ${anyOf(columns.map((_, i) => `(p${i} and r${i} is null)`))}) as _bad_parse,
    ${anyOf([...settled.map((x) => x.unsure), '_u_line'])} as _unsure_values,
    ${settled.map((x, i) => `${x.value} as v${i}`).join(', ')}
    from typed)`);

  const refs = columns.map((_, i) => `v${i}`);
  const byName = new Map(columns.map((c, i) => [c.name, i]));
  const str = (n: string) => {
    const i = byName.get(n)!;
    return jsString(refs[i], sqlKindOf(columns[i].type));
  };
  // The record's JSON: every column, in JavaScript's property order (integer-like names first).
  const order = Object.keys(Object.fromEntries(columns.map((c) => [c.name, 0])));
  const record = `concat('{', ${order.map((n, k) => `${lit(`${k === 0 ? '' : ','}${JSON.stringify(n)}:`)}, ${jsJson(refs[byName.get(n)!], sqlKindOf(columns[byName.get(n)!].type))}`).join(', ')}, '}')`;
  const required = columns.flatMap((c, i) => (c.required ? [`v${i} is null`] : []));
  const cursor = plan.cursor ? refs[byName.get(plan.cursor.name)!] : undefined;
  const threshold = o.threshold;
  const kept = cursor && threshold !== null && threshold !== undefined ? `(${cursor} is null or ${cursor} >= ${typeof threshold === 'number' ? `(${threshold})::double` : lit(threshold)})` : 'true';
  const derived = [
    '_rn',
    '_blank',
    '_bad_parse',
    '_unsure_values',
    `concat_ws(chr(31), ${plan.primaryKey.map(str).join(', ')}) as _pk`,
    `${cursor ? jsString(cursor, sqlKindOf(plan.cursor!.type)) : 'null::varchar'} as _cursor`,
    `${cursor ?? 'null'} as _cv`,
    `${record} as _record`,
    `${kept} as _keep`,
    // The engine's checks: required columns (the record schema), then the primary key.
    `${anyOf([...required, ...plan.primaryKey.map((k) => `contains(${str(k)}, chr(31))`)])} as _bad_schema`,
    ...mapping.columns.map(([n, sql]) => `${sql} as ${n}`),
  ];
  ctes.push(`mapped as (select ${derived.join(',\n    ')}\n    from clean)`);

  const out: string[] = [
    '_rn',
    '_blank',
    '_bad_parse',
    '_unsure_values',
    '_pk',
    '_cursor',
    '_cv',
    '_record',
    '_keep',
    '_bad_schema',
    `coalesce(${mapping.bad}, false) as _bad_map`,
    `coalesce(${mapping.unsure}, false) as _unsure_map`,
  ];
  const identifierColumns = (ids: { normalized: string }[]) => ids.map((x) => x.normalized);
  mapping.events.forEach((e, k) => {
    out.push(`${e.on} as e${k}_on`);
    for (const [f, sql] of Object.entries(e.fields)) out.push(`${f === 'occurred_at' ? `nullif(${sql}, ${UNSURE})` : sql} as e${k}_${f}`);
    out.push(...identifierColumns(e.identifiers));
  });
  mapping.links.forEach((l, k) => {
    out.push(`${l.emitted} as l${k}_emitted`, `${l.id} as l${k}_id`, `nullif(${l.observedAt}, ${UNSURE}) as l${k}_observed_at`);
    out.push(...identifierColumns(l.identifiers));
  });
  mapping.spend.forEach((x, k) => {
    out.push(`${x.on} as s${k}_on`);
    for (const [f, sql] of Object.entries(x.fields)) out.push(`${f === 'date' ? `nullif(${sql}, ${UNSURE})` : sql} as s${k}_${f}`);
  });
  return `create temp table ${name} as with ${ctes.join(',\n')}\nselect ${out.join(',\n  ')} from mapped`;
}

/** Rows that pass everything: they are stored. */
export const GOOD = `not _blank and not _bad_parse and _keep and not _bad_schema and not _bad_map`;

/** The staged relations (views over the record table) in the shapes of StagedRows. */
export function stagedViews(table: string, plan: RecordPlan, prefix: string): { name: string; sql: string; key: 'raw' | 'events' | 'eventIdentifiers' | 'links' | 'linkIdentifiers' | 'spend' }[] {
  const { mapping } = plan;
  const views: ReturnType<typeof stagedViews> = [];
  const from = `from ${table} where ${GOOD}`;
  const view = (key: (typeof views)[number]['key'], selects: string[]) => {
    if (selects.length > 0) views.push({ key, name: `${prefix}_${key}`, sql: selects.join('\nunion all\n') });
  };
  view('raw', [`select _pk, _cursor, _record, _rn as _ord ${from}`]);
  const ord = (k: number) => `_rn * 1000 + ${k}`;
  const idRows = (k: number, id: string, at: string, on: string, ids: IdentifierOut[]) =>
    ids.map((x) => {
      const n = x.normalized;
      return `select ${id} as id, ${x.normalizer.type(n)} as identifier_type, ${x.normalizer.value(n)} as identifier_value, _pk as record_pk, ${at} as observed_at, ${ord(k)} as _ord
        ${from} and ${on} and ${x.normalizer.value(n)} is not null`;
    });
  view(
    'events',
    mapping.events.map(
      (e, k) =>
        `select ${['id', 'occurred_at', 'kind', 'name', 'channel', 'source_medium', 'campaign_id', 'campaign', 'value', 'currency', 'session_id', 'device', 'properties']
          .map((f) => `e${k}_${f} as ${f}`)
          .join(', ')}, _pk as record_pk, ${ord(k)} as _ord ${from} and e${k}_on`,
    ),
  );
  view('eventIdentifiers', mapping.events.flatMap((e, k) => idRows(k, `e${k}_id`, `e${k}_occurred_at`, `e${k}_on`, e.identifiers)));
  // A link whose identifiers are all dropped by normalisation is not stored (toStoredRows).
  const kept = (ids: IdentifierOut[]) => `(${ids.map((x) => `${x.normalizer.value(x.normalized)} is not null`).join(' or ')})`;
  view('links', mapping.links.map((l, k) => `select l${k}_id as id, _pk as record_pk, l${k}_observed_at as observed_at, ${ord(k)} as _ord ${from} and l${k}_emitted and ${kept(l.identifiers)}`));
  view('linkIdentifiers', mapping.links.flatMap((l, k) => idRows(k, `l${k}_id`, `l${k}_observed_at`, `l${k}_emitted`, l.identifiers)));
  view(
    'spend',
    mapping.spend.map(
      (s, k) => `select ${['date', 'channel', 'campaign_id', 'campaign', 'cost', 'currency', 'clicks', 'impressions'].map((f) => `s${k}_${f} as ${f}`).join(', ')}, _pk as record_pk, ${ord(k)} as _ord ${from} and s${k}_on`,
    ),
  );
  return views;
}

/** Identifiers the normalisation drops, `type: reason` → count, among stored records (the read path's report). */
export function droppedSql(table: string, plan: RecordPlan): string | undefined {
  const parts: string[] = [];
  const add = (on: string, ids: IdentifierOut[]) =>
    ids.forEach((x) => parts.push(`select ${lit(x.type.trim().toLowerCase())} as t, ${x.normalizer.dropped(x.normalized)} as reason from ${table} where ${GOOD} and ${on}`));
  plan.mapping.events.forEach((e, k) => add(`e${k}_on`, e.identifiers));
  plan.mapping.links.forEach((l, k) => add(`l${k}_emitted`, l.identifiers));
  if (parts.length === 0) return undefined;
  return `select t, reason, count(*) as n from (${parts.join(' union all ')}) where reason is not null group by t, reason`;
}
