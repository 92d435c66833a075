// Runs a report's own queries for its period: a result table read by the period's key (with the
// section's `where`, `order_by`, `limit`), or read-only SQL whose `:named` parameters are turned into
// bound placeholders here — a value is never put into SQL text. SQL runs in a READ ONLY transaction
// (DuckDB and PostgreSQL both refuse writes in one), after a static check that it is a single
// SELECT/WITH statement. Report files are reviewed code like pipelines; this guards against mistakes,
// and keeps every value out of the SQL text.
import type { Knex } from 'knex';
import type { ResolvedPeriod } from '../analytics/period.ts';
import { ConfigError, RunError } from '../errors.ts';
import { stripComments } from './spec.ts';
import type { ReportQuery, ReportSpec } from './types.ts';

export type Row = Record<string, unknown>;
export type Scalar = string | number | boolean | null;

/** Columns every result table carries for bookkeeping: not shown unless asked for. */
export const BOOKKEEPING = new Set(['period', 'period_start', 'period_end', 'run_id', 'computed_at']);

const PERIOD_TABLES = new Set(['funnel_results', 'path_results', 'attribution_results', 'roi_results', 'cx_metrics']);

export interface QueryContext {
  db: Knex;
  spec: Pick<ReportSpec, 'currency' | 'model'>;
  period: ResolvedPeriod;
  comparison: ResolvedPeriod | null;
}

/** The parameters every SQL query may use. */
export function standardParams(ctx: Omit<QueryContext, 'db'>): Record<string, Scalar> {
  return {
    period: ctx.period.key,
    period_start: ctx.period.startDate,
    period_end: ctx.period.endDate,
    prev_period: ctx.comparison?.key ?? null,
    prev_period_start: ctx.comparison?.startDate ?? null,
    prev_period_end: ctx.comparison?.endDate ?? null,
    currency: ctx.spec.currency,
    model: ctx.spec.model,
  };
}

/**
 * Rewrites `:name` parameters to `?` placeholders with their values in order. String literals,
 * quoted identifiers, comments and `::type` casts are left alone. An unknown name, a bare `?` or a
 * second statement is an error: the SQL must say exactly what it binds.
 */
export function bindNamed(text: string, params: Record<string, Scalar>): { sql: string; values: Scalar[] } {
  let out = '';
  const values: Scalar[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i];
    const next = text[i + 1];
    if (ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < n && !(text[j] === ch && text[j + 1] !== ch)) j += text[j] === ch ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (ch === '-' && next === '-') {
      const j = text.indexOf('\n', i);
      i = j < 0 ? n : j;
    } else if (ch === '/' && next === '*') {
      const j = text.indexOf('*/', i + 2);
      i = j < 0 ? n : j + 2;
    } else if (ch === ':' && next === ':') {
      out += '::';
      i += 2;
    } else if (ch === ':' && /[A-Za-z_]/.test(next ?? '')) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1))!;
      const name = m[0];
      if (!Object.hasOwn(params, name)) {
        throw new ConfigError(`unknown parameter :${name}`, { hint: `parameters: ${Object.keys(params).map((p) => `:${p}`).join(', ')} (add your own under params:)` });
      }
      out += '?';
      values.push(params[name]);
      i += 1 + name.length;
    } else if (ch === '?') {
      throw new ConfigError('a report query cannot use ? placeholders', { hint: 'use named parameters such as :period, bound by Touchpoint' });
    } else if (ch === ';') {
      if (text.slice(i + 1).trim() !== '' && stripComments(text.slice(i + 1)).trim() !== '') {
        throw new ConfigError('a report query must be a single statement', { hint: 'remove the ; and what follows it' });
      }
      i += 1;
    } else {
      out += ch;
      i += 1;
    }
  }
  if (!/^\s*(\(\s*)*(select|with)\b/i.test(out)) {
    throw new ConfigError('a report query may only read: it must start with SELECT or WITH', { hint: 'reports never change the store' });
  }
  return { sql: out, values };
}

/** Runs one SELECT in a read-only transaction. */
export async function runReadOnly(db: Knex, text: string, params: Record<string, Scalar>): Promise<Row[]> {
  const bound = bindNamed(text, params);
  return db.transaction(async (trx) => {
    const result = await trx.raw(bound.sql, bound.values as Knex.RawBinding[]);
    return (result.rows ?? result) as Row[];
  }, { readOnly: true });
}

function orderTerms(orderBy: string): [string, 'asc' | 'desc'][] {
  return orderBy.split(',').map((t) => {
    const [column, dir] = t.trim().split(/\s+/);
    return [column, dir?.toLowerCase() === 'desc' ? 'desc' : 'asc'];
  });
}

/** Reads a table query for a period (null: the comparison period is absent → no rows). */
export async function readTable(db: Knex, q: ReportQuery, period: ResolvedPeriod | null): Promise<Row[]> {
  if (!q.table || !period) return [];
  let query = db(q.table).select(q.columns && q.columns.length > 0 ? q.columns : '*');
  if (PERIOD_TABLES.has(q.table)) query = query.where('period', period.key);
  else if (q.table === 'journeys' && period.start && period.end) query = query.whereRaw('coalesce(conversion_at, ended_at) >= ? and coalesce(conversion_at, ended_at) < ?', [period.start, period.end]);
  else if (q.table === 'journey_touchpoints' && period.start && period.end) query = query.where('occurred_at', '>=', period.start).where('occurred_at', '<', period.end);
  for (const [column, value] of Object.entries(q.where ?? {})) query = query.where(column, value);
  for (const [column, dir] of q.order_by ? orderTerms(q.order_by) : []) query = query.orderBy(column, dir);
  query = query.limit(q.limit ?? 1000);
  return (await query) as Row[];
}

/** Runs every query of the spec's sections for the period (and the comparison period: `<name>__prev`). */
export async function runSpecQueries(ctx: QueryContext, queries: ReportQuery[]): Promise<Record<string, Row[]>> {
  const data: Record<string, Row[]> = {};
  const params = standardParams(ctx);
  for (const q of queries) {
    try {
      if (q.sql) data[q.name] = await runReadOnly(ctx.db, q.sql, { ...params, ...q.params });
      else {
        data[q.name] = await readTable(ctx.db, q, ctx.period);
        data[`${q.name}__prev`] = await readTable(ctx.db, q, ctx.comparison);
      }
    } catch (error) {
      if (error instanceof ConfigError) throw new ConfigError(`query "${q.name}": ${error.message}`, { hint: error.hint });
      throw new RunError(`query "${q.name}" failed: ${(error as Error).message}`, { hint: 'check its table, columns and SQL against docs/tables.md', cause: error });
    }
  }
  return data;
}
