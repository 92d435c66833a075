// Opening stores, and the ways opening fails: a DuckDB file another process writes (the error names
// that process), read-only opens beside other readers, and PostgreSQL servers that refuse, stall
// or lack the database — each a one-line StoreError, quickly.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreError } from '../errors.ts';
import { openStore } from './index.ts';
import { describeOnPostgres, pgTestUrl, tempDuckDB } from './test-support.ts';
import type { BatchWrite } from './types.ts';

const INDEX = fileURLToPath(new URL('./index.ts', import.meta.url));

/** A second Node process that opens `url` through openStore and holds it until its stdin closes. */
async function holdInChild(url: string, readOnly: boolean): Promise<{ child: ChildProcess; output: string }> {
  const code = `
    import { openStore } from ${JSON.stringify(INDEX)};
    const store = await openStore({ url: ${JSON.stringify(url)}, readOnly: ${readOnly} });
    process.stdout.write(JSON.stringify(await store.counts()) + '\\n');
    process.stdin.resume();
    process.stdin.on('end', async () => { await store.close(); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let errors = '';
  child.stderr!.on('data', (d) => (errors += d));
  for await (const chunk of child.stdout!) {
    output += chunk;
    if (output.includes('\n')) return { child, output };
  }
  throw new Error(`child exited before opening the store: ${errors}`);
}

async function release(child: ChildProcess): Promise<void> {
  child.stdin!.end();
  if (child.exitCode === null) await once(child, 'exit');
}

const batch: BatchWrite = {
  runId: 'r1',
  pipeline: 'p',
  source: 'files',
  stream: 'orders',
  raw: [{ pk: '1', record: { id: 1 } }],
  events: [],
  links: [],
  spend: [],
  quarantine: [],
  state: { offset: 1 },
};

describe('DuckDB file locking', () => {
  const db = tempDuckDB('locked.duckdb');
  afterAll(() => db.remove());

  it('creates the parent folder, and names the PID of the process writing the file', async () => {
    const store = await openStore({ url: `duckdb://${db.dir}/nested/folder/store.duckdb` });
    await store.close();
    const seed = await openStore({ url: db.url });
    await seed.migrate();
    await seed.close();

    const { child } = await holdInChild(db.url, false);
    try {
      for (const readOnly of [false, true]) {
        const started = Date.now();
        const error = await openStore({ url: db.url, readOnly }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(Date.now() - started).toBeLessThan(3_000);
        expect(error).toBeInstanceOf(StoreError);
        const e = error as StoreError;
        expect(e.message).toContain(`is locked by another process (PID ${child.pid}`);
        expect(e.message).toContain(db.path);
        expect(e.hint).toMatch(/wait for that run to finish/);
        expect(e.transient).toBe(true);
      }
    } finally {
      await release(child);
    }
    const after = await openStore({ url: db.url });
    await after.close();
  });

  it('opens read-only beside other readers while nothing writes, and refuses writes', async () => {
    const writer = await openStore({ url: db.url });
    await writer.migrate();
    await writer.writeBatch(batch);
    await writer.close();

    const reader = await openStore({ url: db.url, readOnly: true });
    const { child, output } = await holdInChild(db.url, true);
    try {
      const counts = await reader.counts();
      expect(JSON.parse(output)).toEqual(counts);
      expect(counts).toMatchObject({ raw_files_orders: 1, stream_state: 1 });
      await reader.migrate(); // up to date: nothing to do, nothing written
      expect(await reader.getState('p', 'files', 'orders')).toEqual({ offset: 1 });
      await expect(reader.writeBatch({ ...batch, runId: 'r2' })).rejects.toThrow(/read-only/);
    } finally {
      await release(child);
      await reader.close();
    }
  });

  it('shares one DuckDB instance per file inside a process', async () => {
    const one = await openStore({ url: db.url });
    const two = await openStore({ url: db.url });
    const reader = await openStore({ url: db.url, readOnly: true });
    await one.writeBatch({ ...batch, runId: 'r3', raw: [{ pk: '2', record: { id: 2 } }] });
    await one.close();
    expect(await two.counts()).toMatchObject({ raw_files_orders: 2 });
    expect(await reader.getState('p', 'files', 'orders')).toEqual({ offset: 1 });
    await two.close();
    await reader.close();

    const ro = await openStore({ url: db.url, readOnly: true });
    await expect(openStore({ url: db.url })).rejects.toThrow(/is open read-only in this process/);
    await ro.close();
  });

  it('says there is no store when a read-only open finds no file', async () => {
    await expect(openStore({ url: `duckdb://${db.dir}/missing.duckdb`, readOnly: true })).rejects.toThrow(/no DuckDB store at .*missing\.duckdb/);
  });
});

describe('unreachable PostgreSQL', () => {
  it('refused: one line with host:port and a hint', async () => {
    const error = (await openStore({ url: 'postgres://postgres:pw@127.0.0.1:1/test' }).catch((e: unknown) => e)) as StoreError;
    expect(error).toBeInstanceOf(StoreError);
    expect(error.message).toBe('cannot reach PostgreSQL at 127.0.0.1:1 (ECONNREFUSED)');
    expect(error.hint).toMatch(/TOUCHPOINT_DATABASE_URL/);
    expect(error.transient).toBe(true);
  });

  it('silent server: gives up after the short connect timeout instead of hanging', async () => {
    const server = createServer(() => {});
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const started = Date.now();
    try {
      const error = (await openStore({ url: `postgres://postgres@127.0.0.1:${port}/test` }).catch((e: unknown) => e)) as StoreError;
      expect(error).toBeInstanceOf(StoreError);
      expect(error.message).toMatch(new RegExp(`^cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port} \\(.*timeout.*\\)$`));
      expect(Date.now() - started).toBeLessThan(9_000);
    } finally {
      server.close();
    }
  });
});

describe('DuckDB memory limit', () => {
  const db = tempDuckDB('memory.duckdb');
  afterAll(() => db.remove());

  it('caps the buffer pool at 1GB by default, or at the size given', async () => {
    const setting = async (memoryLimit?: string) => {
      const store = await openStore({ url: db.url, memoryLimit });
      try {
        return (await store.knex.raw(`select current_setting('memory_limit') as v`)).rows[0].v;
      } finally {
        await store.close();
      }
    };
    // DuckDB reports the size in binary units: 1GB = 953.6 MiB.
    expect(await setting()).toBe('953.6 MiB');
    expect(await setting('512MiB')).toBe('512.0 MiB');
  });
});

describeOnPostgres('PostgreSQL open errors', () => {
  it('names a missing database', async () => {
    const url = new URL(pgTestUrl());
    url.pathname = '/touchpoint_no_such_db';
    await expect(openStore({ url: url.toString() })).rejects.toThrow(/has no database "touchpoint_no_such_db"/);
  });

  it('refuses writes on a read-only store, and hides the password in displayUrl', async () => {
    const url = new URL(pgTestUrl());
    url.password = 'not-used-with-trust';
    const store = await openStore({ url: url.toString(), readOnly: true });
    try {
      expect(store.displayUrl).toContain(':***@');
      expect(store.displayUrl).not.toContain('not-used-with-trust');
      await expect(store.knex.raw('create table tp_should_not_exist (x int)')).rejects.toThrow(/read-only transaction/);
    } finally {
      await store.close();
    }
  });
});
