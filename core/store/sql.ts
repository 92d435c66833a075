// A small SQL fragment builder: text with knex `?` placeholders plus the values bound to them, so the
// journeys and analytics SQL can be composed from configuration (rule lists, priorities, periods)
// without ever putting a user's value into the SQL text; and named steps (temporary tables, analyzed on PostgreSQL). Pure
// except `exec`, which runs a fragment.
import type { Knex } from 'knex';
import type { Dialect } from './types.ts';

export interface Fragment {
  readonly text: string;
  readonly values: readonly unknown[];
}

type Part = Fragment | string | number | boolean | Date | null;

function isFragment(part: unknown): part is Fragment {
  return typeof part === 'object' && part !== null && 'text' in part && 'values' in part;
}

/** `sql\`a = ${x}\`` binds x; a Fragment part is spliced in with its own values. */
export function sql(strings: TemplateStringsArray, ...parts: Part[]): Fragment {
  let text = strings[0];
  const values: unknown[] = [];
  parts.forEach((part, i) => {
    if (isFragment(part)) {
      text += part.text;
      values.push(...part.values);
    } else {
      text += '?';
      values.push(part);
    }
    text += strings[i + 1];
  });
  return { text, values };
}

/** Trusted SQL text written in this codebase (keywords, our own column names), never user data. */
export function raw(text: string): Fragment {
  return { text, values: [] };
}

export function join(fragments: readonly Fragment[], separator: string): Fragment {
  return { text: fragments.map((f) => f.text).join(separator), values: fragments.flatMap((f) => f.values) };
}

/** `expr in (?, ?, …)`; an empty list matches nothing (SQL has no empty IN list). */
export function inList(expr: Fragment, values: readonly string[]): Fragment {
  if (values.length === 0) return raw('false');
  return sql`${expr} in (${join(values.map((v) => sql`${v}`), ', ')})`;
}

/**
 * Text compared byte by byte, as DuckDB always does. PostgreSQL compares text by the database's
 * collation (en_US orders `a_b` and `aB` differently from C), which would make tie-breaks, ids and
 * so journeys differ between the engines.
 */
export function bytewise(column: string, dialect: Dialect): Fragment {
  return raw(dialect === 'postgres' ? `${column} collate "C"` : column);
}

/** One statement of a build, named for logs and the benchmark. */
export interface Step {
  name: string;
  sql: Fragment;
}

/** Creates temporary table `table` from a query; on PostgreSQL also analyzes it: its planner knows a temporary table only from ANALYZE. */
export function analyzed(dialect: Dialect, name: string, table: string, select: Fragment): Step[] {
  const create = { name, sql: sql`create temporary table ${raw(table)} as ${select}` };
  return dialect === 'postgres' ? [create, { name: `analyze ${table}`, sql: raw(`analyze ${table}`) }] : [create];
}

export async function exec(db: Knex | Knex.Transaction, fragment: Fragment): Promise<{ rows: Record<string, unknown>[]; rowCount: number }> {
  const result = await db.raw(fragment.text, fragment.values as Knex.RawBinding[]);
  return { rows: result.rows ?? [], rowCount: result.rowCount ?? 0 };
}
