// A small SQL fragment builder: text with knex `?` placeholders plus the values bound to them, so the
// journeys SQL can be composed from configuration (rule lists, priorities) without ever putting a
// user's value into the SQL text. Pure; run a fragment with `exec(db, fragment)`.
import type { Knex } from 'knex';

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

export async function exec(db: Knex | Knex.Transaction, fragment: Fragment): Promise<{ rows: Record<string, unknown>[]; rowCount: number }> {
  const result = await db.raw(fragment.text, fragment.values as Knex.RawBinding[]);
  return { rows: result.rows ?? [], rowCount: result.rowCount ?? 0 };
}
