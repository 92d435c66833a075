// Real stores for tests, on both engines: a DuckDB file in a fresh temp folder, and a uniquely
// named schema on the PostgreSQL test server (TOUCHPOINT_TEST_DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/test), dropped afterwards. When that server is unreachable
// the PostgreSQL suites are skipped locally but FAIL when CI=true: a test must never pass in CI
// because a server was missing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import type { Dialect } from './types.ts';

const PG_URL = process.env.TOUCHPOINT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function probe(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return e.code ?? e.message ?? String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Why PostgreSQL cannot be used (undefined when it can). Probed once per test file. */
export const postgresUnavailable: string | undefined = await probe(PG_URL);

/** The test server's base URL (no schema). */
export function pgTestUrl(): string {
  return PG_URL;
}

/** `describe` that needs the PostgreSQL test server: runs, skips (locally) or fails (CI=true). */
export function describeOnPostgres(name: string, body: () => void): void {
  if (postgresUnavailable === undefined) describe(name, body);
  else if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs PostgreSQL', () => {
        throw new Error(`PostgreSQL test server unreachable at ${PG_URL} (${postgresUnavailable}); CI=true requires it`);
      });
    });
  } else describe.skip(`${name} (PostgreSQL unreachable: ${postgresUnavailable})`, body);
}

/** A fresh schema on the test server; `url` points the store at it (`?schema=`). */
export async function createPgSchema(prefix = 'tp_test'): Promise<{ schema: string; url: string; drop(): Promise<void> }> {
  const schema = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const url = new URL(PG_URL);
  url.searchParams.set('schema', schema);
  return {
    schema,
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A DuckDB file URL in a fresh temp folder (the file itself does not exist yet). */
export function tempDuckDB(name = 'store.duckdb'): { url: string; dir: string; path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'touchpoint-store-'));
  const path = join(dir, name);
  return { url: `duckdb://${path}`, dir, path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TestEngine {
  dialect: Dialect;
  /** A new, empty store URL; removed after the enclosing describe. */
  freshUrl(): Promise<string>;
}

/**
 * Defines the same suite once per engine. Call inside a test file at top level:
 * `describeEachEngine('store', (engine) => { it('…', async () => openStore({ url: await engine.freshUrl() })) })`.
 */
export function describeEachEngine(name: string, body: (engine: TestEngine) => void): void {
  describe(`${name} [duckdb]`, () => {
    const made: { remove(): void }[] = [];
    afterAll(() => made.forEach((m) => m.remove()));
    body({
      dialect: 'duckdb',
      async freshUrl() {
        const db = tempDuckDB();
        made.push(db);
        return db.url;
      },
    });
  });
  describeOnPostgres(`${name} [postgres]`, () => {
    const made: { drop(): Promise<void> }[] = [];
    afterAll(async () => {
      for (const m of made) await m.drop();
    });
    body({
      dialect: 'postgres',
      async freshUrl() {
        const schema = await createPgSchema();
        made.push(schema);
        return schema.url;
      },
    });
  });
}
