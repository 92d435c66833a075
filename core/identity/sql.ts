// The identity stage's few SQL helpers: run a statement, read a number, build a work table. The
// stage runs in one transaction (one connection), so its work tables are temporary tables that
// vanish with the session and never collide with another run's. Every statement here runs on DuckDB
// and PostgreSQL alike; the two real differences are isolated in `regexSearch` (DuckDB's `~` is a
// full match, PostgreSQL's a search) and `analyze` (PostgreSQL plans from statistics it does not
// gather for temporary tables). Table names are this stage's own constants, never user data; values
// are always bound.
import type { Knex } from 'knex';
import type { Logger } from '../sdk/types.ts';
import type { Dialect } from '../store/types.ts';

export interface Sql {
  db: Knex | Knex.Transaction;
  dialect: Dialect;
  /** Work tables created in this transaction and not dropped yet (a `drop` of anything else is skipped). */
  tables?: Set<string>;
  /** Called after each statement with its first words and duration (benchmarks, debugging). */
  onStep?: (name: string, ms: number) => void;
  log?: Logger;
}

/** Runs one statement, timed for `onStep`. */
async function run(sql: Sql, text: string, bindings: readonly unknown[]): Promise<{ rows?: unknown[]; rowCount?: number }> {
  if (!sql.onStep) return sql.db.raw(text, bindings as Knex.RawBinding[]);
  const started = performance.now();
  const result = await sql.db.raw(text, bindings as Knex.RawBinding[]);
  sql.onStep(text.replace(/\s+/g, ' ').slice(0, 90), performance.now() - started);
  return result;
}

export async function rows<T = Record<string, unknown>>(sql: Sql, text: string, bindings: readonly unknown[] = []): Promise<T[]> {
  const result = await run(sql, text, bindings);
  return (result.rows ?? []) as T[];
}

/** Runs a statement; returns the rows it changed (inserts, updates, deletes). */
export async function exec(sql: Sql, text: string, bindings: readonly unknown[] = []): Promise<number> {
  const result = await run(sql, text, bindings);
  return Number(result.rowCount ?? 0);
}

/** The first column of the first row, as a number (0 when there is no row or it is null). */
export async function scalar(sql: Sql, text: string, bindings: readonly unknown[] = []): Promise<number> {
  const [row] = await rows(sql, text, bindings);
  const value = row === undefined ? undefined : Object.values(row)[0];
  return value === null || value === undefined ? 0 : Number(value);
}

/** (Re)creates temporary table `name` from a query. */
export async function temp(sql: Sql, name: string, select: string, bindings: readonly unknown[] = []): Promise<void> {
  await drop(sql, name);
  await run(sql, `create temporary table ${name} as ${select}`, bindings);
  sql.tables?.add(name);
  await analyze(sql, name);
}

/** Drops work tables; with `sql.tables` only those known to exist (a statement saved per table). */
export async function drop(sql: Sql, ...names: string[]): Promise<void> {
  for (const name of names) {
    if (sql.tables && !sql.tables.has(name)) continue;
    await run(sql, `drop table if exists ${name}`, []);
    sql.tables?.delete(name);
  }
}

/** PostgreSQL never auto-analyzes temporary tables; without statistics it guesses sizes and nests loops. */
export async function analyze(sql: Sql, name: string): Promise<void> {
  if (sql.dialect === 'postgres') await run(sql, `analyze ${name}`, []);
}

/** `expr` contains a match of the regular expression bound as the next parameter. */
export function regexSearch(dialect: Dialect, expr: string): string {
  return dialect === 'duckdb' ? `regexp_matches(${expr}, ?)` : `(${expr} ~ ?)`;
}

/** A JSON array (text) of the aggregated text values in byte order: the same text on both engines. */
export function jsonTextArray(expr: string): string {
  return `'[' || string_agg(cast(to_json(${expr}) as text), ',' order by ${expr} collate "C") || ']'`;
}
