// How our PostgreSQL connections turn column text into JS values: the same values the DuckDB client
// returns (duckdb-client.ts). Passed per connection as pg's `types` option, so an application that
// embeds Touchpoint keeps pg's global parsers untouched.
import pg from 'pg';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** int8 as a number while exact, else the decimal text (a count never needs to be a string). */
export function parseInt8(text: string): number | string {
  const n = Number(text);
  return Number.isInteger(n) && Math.abs(n) <= MAX_SAFE ? n : text;
}

// OIDs from PostgreSQL's pg_type catalog (src/include/catalog/pg_type.dat).
const OID = { int8: 20, numeric: 1700, date: 1082, timestamp: 1114, json: 114, jsonb: 3802 } as const;

const overrides = new Map<number, (text: string) => unknown>([
  [OID.int8, parseInt8],
  // numeric comes from sum()/avg() of integers and from DECIMAL columns; DuckDB gives doubles.
  [OID.numeric, (text) => Number(text)],
  // A calendar date has no time zone: keep 'YYYY-MM-DD' rather than a Date at local midnight.
  [OID.date, (text) => text],
  // timestamp without time zone: read as UTC (pg's default reads it in the process's local zone).
  [OID.timestamp, (text) => new Date(`${text.replace(' ', 'T')}Z`)],
  [OID.json, (text) => JSON.parse(text)],
  [OID.jsonb, (text) => JSON.parse(text)],
]);

export const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (text: string) => unknown {
    if (format !== 'binary') {
      const parser = overrides.get(oid);
      if (parser) return parser;
    }
    return pg.types.getTypeParser(oid, format as any) as (text: string) => unknown;
  },
};
