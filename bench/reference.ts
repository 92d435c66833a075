// The limits the pipeline is compared with, each measured in a child process of its own so that its
// memory does not count towards the pipeline's peak RSS (run.ts starts it, reads one JSON line):
//  - duckdb-read: DuckDB alone, `create table … as select * from read_ndjson_auto(web/*.ndjson.gz)`
//    plus read_csv_auto of each CSV — every column inferred, no mapping, no keys, no indexes;
//  - pg-copy: PostgreSQL COPY of the same rows: each NDJSON line (gunzipped in Node) into a table of
//    one jsonb column (so PostgreSQL parses every record, as our load does), each CSV with
//    COPY … (format csv, header) into a table of text columns named by its header (every CSV folder);
//  - union-find: the identifier links of the store's identifier_observations streamed out ordered by
//    observation (DuckDB read-only, or COPY … TO STDOUT on PostgreSQL) into union-find.ts; read and
//    union timed apart — the union is the floor the identity stage is compared with.
//   node bench/reference.ts duckdb-read <data> <scratch dir>
//   node bench/reference.ts pg-copy <data> <postgres url> <schema>
//   node bench/reference.ts union-find <duckdb file | postgres url> [schema]
import { createReadStream, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { measure } from './measure.ts';
import { identifierKey, LinkFeeder } from './union-find.ts';

export interface ReferenceResult {
  kind: 'duckdb-read' | 'pg-copy' | 'union-find';
  ms: number;
  rows: number;
  peakRssBytes: number;
  /** union-find: the time to stream the links out of the store (not part of ms). */
  readMs?: number;
  identifiers?: number;
  components?: number;
  detail?: Record<string, number>;
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

function csvFiles(data: string): { table: string; path: string }[] {
  const out: { table: string; path: string }[] = [];
  const dirs = readdirSync(join(data), { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'web').map((d) => d.name).toSorted();
  for (const dir of dirs) {
    for (const name of readdirSync(join(data, dir)).filter((n) => n.endsWith('.csv')).toSorted()) out.push({ table: `${dir}_${name.slice(0, -4).replace(/\W/g, '_')}`, path: join(data, dir, name) });
  }
  return out;
}

export async function duckdbRead(data: string, scratch: string): Promise<ReferenceResult> {
  const file = join(scratch, 'reference-read.duckdb');
  rmSync(file, { force: true });
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  const detail: Record<string, number> = {};
  const { result: rows, measure: m } = await measure(async () => {
    await connection.run(`create table web_events as select * from read_ndjson_auto(${sqlString(join(data, 'web/*.ndjson.gz'))})`);
    for (const f of csvFiles(data)) await connection.run(`create table ${ident(f.table)} as select * from read_csv_auto(${sqlString(f.path)})`);
    let n = 0;
    for (const t of ['web_events', ...csvFiles(data).map((f) => f.table)]) {
      detail[t] = Number((await connection.runAndReadAll(`select count(*) from ${ident(t)}`)).getRows()[0][0]);
      n += detail[t];
    }
    // Written to the file, as the pipeline's load is.
    await connection.run('checkpoint');
    return n;
  });
  connection.closeSync();
  instance.closeSync();
  rmSync(file, { force: true });
  rmSync(`${file}.wal`, { force: true });
  return { kind: 'duckdb-read', ms: m.ms, rows, peakRssBytes: m.peakRssBytes, detail };
}

/** COPY text format: a backslash is the escape character (a JSON line has no tab or newline in it). */
class EscapeBackslashes extends Transform {
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (!chunk.includes(0x5c)) return done(null, chunk);
    done(null, Buffer.from(chunk.toString('latin1').replaceAll('\\', '\\\\'), 'latin1'));
  }
}

export async function pgCopy(data: string, url: string, schema: string): Promise<ReferenceResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const detail: Record<string, number> = {};
  try {
    await client.query(`drop schema if exists ${ident(schema)} cascade`);
    await client.query(`create schema ${ident(schema)}`);
    await client.query(`set search_path to ${ident(schema)}`);
    const { result: rows, measure: m } = await measure(async () => {
      await client.query('create table web_events (doc jsonb)');
      let n = 0;
      for (const name of readdirSync(join(data, 'web')).filter((x) => x.endsWith('.ndjson.gz')).toSorted()) {
        const target = client.query(copyStreams.from('copy web_events (doc) from stdin'));
        await pipeline(createReadStream(join(data, 'web', name)), createGunzip(), new EscapeBackslashes(), target);
        n += Number(target.rowCount);
      }
      detail.web_events = n;
      for (const f of csvFiles(data)) {
        const header = readFileSync(f.path, 'utf8').split('\n', 1)[0].split(',');
        await client.query(`create table ${ident(f.table)} (${header.map((c) => `${ident(c)} text`).join(', ')})`);
        const target = client.query(copyStreams.from(`copy ${ident(f.table)} from stdin with (format csv, header true)`));
        await pipeline(createReadStream(f.path), target);
        detail[f.table] = Number(target.rowCount);
        n += detail[f.table];
      }
      return n;
    });
    return { kind: 'pg-copy', ms: m.ms, rows, peakRssBytes: m.peakRssBytes, detail };
  } finally {
    await client.query(`drop schema if exists ${ident(schema)} cascade`).catch(() => {});
    await client.end();
  }
}

const LINKS_SQL = 'select observation_id, identifier_type, identifier_value from identifier_observations order by observation_id';

/** Streams (observation, identifier) pairs ordered by observation into `feed`. */
async function streamLinks(target: string, schema: string | undefined, feed: (observation: string, key: string) => void): Promise<void> {
  if (!target.startsWith('postgres')) {
    const instance = await DuckDBInstance.create(target, { access_mode: 'READ_ONLY' });
    const connection = await instance.connect();
    try {
      const result = await connection.stream(LINKS_SQL);
      for await (const rows of result.yieldRows()) for (const r of rows) feed(String(r[0]), identifierKey(String(r[1]), String(r[2])));
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    return;
  }
  const client = new pg.Client({ connectionString: target });
  await client.connect();
  try {
    if (schema) await client.query(`set search_path to ${ident(schema)}`);
    const source = client.query(copyStreams.to(`copy (${LINKS_SQL}) to stdout`));
    let rest = '';
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const [o, t, v] = line.split('\t');
        feed(o, identifierKey(t, v));
      }
    }
  } finally {
    await client.end();
  }
}

export async function unionFind(target: string, schema?: string): Promise<ReferenceResult> {
  // Links are collected first so that the union-find is timed on its own.
  const observations: string[] = [];
  const keys: string[] = [];
  const read = await measure(() => streamLinks(target, schema, (o, k) => (observations.push(o), keys.push(k))));
  const { result: feeder, measure: m } = await measure(async () => {
    const f = new LinkFeeder();
    for (let i = 0; i < keys.length; i++) f.add(observations[i], keys[i]);
    f.uf.components();
    return f;
  });
  return {
    kind: 'union-find',
    ms: m.ms,
    readMs: read.measure.ms,
    rows: feeder.links,
    identifiers: feeder.uf.nodes,
    components: feeder.uf.components(),
    peakRssBytes: Math.max(read.measure.peakRssBytes, m.peakRssBytes),
  };
}

if (import.meta.main) {
  const [kind, a, b, c] = process.argv.slice(2);
  let result: ReferenceResult;
  if (kind === 'duckdb-read') result = await duckdbRead(a, b);
  else if (kind === 'pg-copy') result = await pgCopy(a, b, c);
  else if (kind === 'union-find') result = await unionFind(a, b);
  else throw new Error(`unknown reference ${kind}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
