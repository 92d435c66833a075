// Store URLs: which store a pipeline writes to, and how to print it. Pure functions: the precedence
// (TOUCHPOINT_DATABASE_URL over the pipeline's `store:` over the default file), the accepted
// forms, and a displayable URL that never shows a password.
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import type { Dialect } from './types.ts';

export const STORE_URL_ENV = 'TOUCHPOINT_DATABASE_URL';
export const DUCKDB_MEMORY_ENV = 'TOUCHPOINT_DUCKDB_MEMORY_LIMIT';

/**
 * DuckDB's buffer pool lives in the Touchpoint process, and by default may take 80% of the RAM,
 * keeping what it read cached until then: a 1M-event run peaked at 2.0 GB with the tables' primary
 * keys, 1.3–1.4 GB without (docs/scaling.md). 1GB caps it for larger worlds at no measured cost in
 * time on that run; DuckDB spills larger work to disk (`<file>.tmp`).
 */
export const DEFAULT_DUCKDB_MEMORY_LIMIT = '1GB';

/** The DuckDB store's memory_limit: TOUCHPOINT_DUCKDB_MEMORY_LIMIT (a size such as 4GB) or the default. */
export function duckdbMemoryLimit(env: Record<string, string | undefined>): string {
  const value = env[DUCKDB_MEMORY_ENV]?.trim();
  if (!value) return DEFAULT_DUCKDB_MEMORY_LIMIT;
  if (!/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(value)) {
    throw new ConfigError(`not a memory size (got ${JSON.stringify(value)})`, { where: DUCKDB_MEMORY_ENV, hint: 'write a size such as 2GB or 512MB' });
  }
  return value;
}

export type ParsedStoreUrl =
  | { dialect: Extract<Dialect, 'duckdb'>; /** absolute path or `:memory:` */ filename: string }
  | { dialect: Extract<Dialect, 'postgres'>; connectionString: string; host: string; port: number; database: string; schema?: string };

const FORMS = 'duckdb:///abs/path.duckdb, duckdb://relative/path.duckdb, duckdb://:memory: or postgres://user@host:5432/db';

/**
 * The URL a pipeline's store lives at: the environment wins over the YAML, then the default
 * `duckdb://.touchpoint/<pipeline>.duckdb`. Relative DuckDB paths come back absolute (against
 * `baseDir`), so the result means the same thing from any working directory.
 */
export function resolveStoreUrl(input: { yaml?: string; env: Record<string, string | undefined>; baseDir: string; pipelineName: string }): string {
  const fromEnv = input.env[STORE_URL_ENV]?.trim();
  const fromYaml = input.yaml?.trim();
  const url = fromEnv || fromYaml || `duckdb://.touchpoint/${input.pipelineName.replace(/[^A-Za-z0-9._-]/g, '_')}.duckdb`;
  const where = fromEnv ? STORE_URL_ENV : fromYaml ? 'store' : undefined;
  const parsed = parseStoreUrl(url, input.baseDir, where);
  return parsed.dialect === 'duckdb' ? duckdbUrl(parsed.filename) : url;
}

export function duckdbUrl(filename: string): string {
  return filename === ':memory:' ? 'duckdb://:memory:' : `duckdb://${filename}`;
}

/** Throws a ConfigError naming `where` (the env variable or YAML key) for anything unsupported. */
export function parseStoreUrl(url: string, baseDir: string = process.cwd(), where?: string): ParsedStoreUrl {
  const bad = (why: string, hint = `use one of: ${FORMS}`) =>
    new ConfigError(`${why} (got ${JSON.stringify(redactUrl(url))})`, { where, hint });
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'duckdb') {
    const rest = url.slice('duckdb:'.length);
    if (!rest.startsWith('//')) throw bad('a DuckDB store URL starts with duckdb://');
    // Taken literally (no percent-decoding): it is a file path, not a URL path.
    const path = rest.slice(2);
    if (path === '') throw bad('a DuckDB store URL needs a file path');
    if (path === ':memory:') return { dialect: 'duckdb', filename: ':memory:' };
    if (/[?#]/.test(path)) throw bad('a DuckDB store URL takes no query string or fragment');
    return { dialect: 'duckdb', filename: isAbsolute(path) ? path : resolve(baseDir, path) };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw bad('not a valid PostgreSQL URL');
    }
    if (!parsed.hostname) throw bad('a PostgreSQL URL needs a host', 'write postgres://user:password@host:5432/database');
    const schema = parsed.searchParams.get('schema') ?? undefined;
    if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_$]*$/.test(schema)) throw bad('schema must be a plain SQL identifier');
    // `schema` is ours (knex's search path); pg's connection-string parser must not see it.
    parsed.searchParams.delete('schema');
    return {
      dialect: 'postgres',
      connectionString: parsed.toString(),
      host: parsed.hostname,
      port: Number(parsed.port || 5432),
      database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres',
      schema,
    };
  }
  if (scheme === undefined && /\.duckdb$/i.test(url)) throw bad('a DuckDB store needs the duckdb:// scheme', `write duckdb://${url}`);
  throw bad(scheme ? `unsupported store "${scheme}"` : 'not a store URL');
}

/** The URL with any password replaced by `***` (and nothing else changed). */
export function redactUrl(url: string): string {
  // Greedy up to the last '@' before the path: an unencoded '@' inside a password stays hidden.
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^/?#]*@/i, '$1:***@').replace(/([?&]password=)[^&#]*/gi, '$1***');
}
