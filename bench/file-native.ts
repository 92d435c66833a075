// Loading the demo world through the file connector on DuckDB, two ways: the native load (DuckDB
// reads, types and maps the files in SQL, connectors/file/native.ts) and the read path (Node parses,
// validates and maps, then bulk-appends 5000-record batches), each into a fresh store as
// `npm run demo` does (`touchpoint run pipelines/demo.yaml --only extract`). For reference, DuckDB's
// plain read_ndjson_auto / read_csv_auto of the same files into tables (no types declared, no
// mapping, no indexes). The world is generateDemo's (PEOPLE people, default 80,000: about 1M web
// events); ROUNDS alternating rounds (default 2), as this kind of machine is shared. Prints wall
// and CPU seconds and events per second; asserts nothing.
//   npm exec -- node bench/file-native.ts [people] [rounds] [data folder to reuse]
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadPipeline } from '../core/config/pipeline.ts';
import { runPipeline } from '../core/engine/run.ts';
import { createLogger } from '../core/sdk/log.ts';
import { openStore } from '../core/store/index.ts';
import { generateDemo } from './generator/demo.ts';

const people = Number(process.argv[2] || 80_000);
const rounds = Number(process.argv[3] || 2);
const dir = mkdtempSync(join(tmpdir(), 'touchpoint-bench-file-native-'));
const data = resolve(process.argv[4] || join(dir, 'data'));

if (!existsSync(join(data, 'manifest.json'))) {
  const started = performance.now();
  const world = await generateDemo({ out: data, people, seed: 42 });
  const rows = world.files.reduce((n, f) => n + f.rows, 0);
  console.log(`world: ${people.toLocaleString('en')} people, ${rows.toLocaleString('en')} rows in ${world.files.length} files (${((performance.now() - started) / 1000).toFixed(1)} s to generate)`);
} else {
  console.log(`world: reusing ${data}`);
}
const pipelineFile = join(dir, 'demo.yaml');
writeFileSync(pipelineFile, readFileSync(resolve(import.meta.dirname, '../pipelines/demo.yaml'), 'utf8').replaceAll('../data/demo/', `${data}/`));
const log = createLogger({ secrets: [], level: 'error', write: () => {} });

interface Timing {
  wall: number;
  cpu: number;
}

async function timed(work: () => Promise<unknown>): Promise<Timing> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  await work();
  const used = process.cpuUsage(cpu);
  return { wall: (performance.now() - started) / 1000, cpu: (used.user + used.system) / 1e6 };
}

/** One extract of the whole pipeline into a fresh DuckDB file; the native load on or off. */
async function load(native: boolean, round: number): Promise<{ time: Timing; events: number; records: number; streams: string }> {
  const url = `duckdb://${join(dir, `${native ? 'native' : 'js'}-${round}.duckdb`)}`;
  const env = { ...process.env, TOUCHPOINT_DATABASE_URL: url, TOUCHPOINT_NATIVE_LOAD: native ? 'on' : 'off' };
  const saved = process.env.TOUCHPOINT_NATIVE_LOAD;
  process.env.TOUCHPOINT_NATIVE_LOAD = env.TOUCHPOINT_NATIVE_LOAD;
  let result: Awaited<ReturnType<typeof runPipeline>> | undefined;
  try {
    const time = await timed(async () => {
      result = await runPipeline(loadPipeline(pipelineFile, { env }), { log, env, only: 'extract' });
    });
    if (result?.status !== 'succeeded') throw new Error(`run ${result?.status}: ${result?.error}`);
    const store = await openStore({ url, readOnly: true });
    const counts = await store.counts();
    await store.close();
    const streams = result.streams.map((s) => `${s.source}/${s.stream} ${((s.endedAt! - s.startedAt) / 1000).toFixed(1)}s`).join(', ');
    return { time, events: counts.events, records: result.streams.reduce((n, s) => n + s.records, 0), streams };
  } finally {
    if (saved === undefined) delete process.env.TOUCHPOINT_NATIVE_LOAD;
    else process.env.TOUCHPOINT_NATIVE_LOAD = saved;
    rmSync(join(dir, `${native ? 'native' : 'js'}-${round}.duckdb`), { force: true });
    rmSync(join(dir, `${native ? 'native' : 'js'}-${round}.duckdb.wal`), { force: true });
  }
}

/** DuckDB alone: every file into a table with inferred types. */
async function plainDuckDB(round: number): Promise<{ time: Timing; rows: number }> {
  const file = join(dir, `plain-${round}.duckdb`);
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  let rows = 0;
  const time = await timed(async () => {
    await connection.run(`create table web_events as select * from read_ndjson_auto('${data}/web/*.ndjson.gz')`);
    for (const name of ['contacts', 'deals', 'activities']) await connection.run(`create table crm_${name} as select * from read_csv_auto('${data}/crm/${name}.csv')`);
    for (const name of ['google-ads', 'meta-ads']) await connection.run(`create table "${name}" as select * from read_csv_auto('${data}/ads/${name}.csv')`);
  });
  const counts = await connection.runAndReadAll(
    `select (select count(*) from web_events) + (select count(*) from crm_contacts) + (select count(*) from crm_deals) + (select count(*) from crm_activities)
       + (select count(*) from "google-ads") + (select count(*) from "meta-ads") as n`,
  );
  rows = Number(counts.getRows()[0][0]);
  connection.closeSync();
  instance.closeSync();
  rmSync(file, { force: true });
  return { time, rows };
}

const line = (label: string, t: Timing, rows: number, unit: string) =>
  console.log(`${label.padEnd(26)} ${t.wall.toFixed(1).padStart(6)} s wall (cpu ${t.cpu.toFixed(1).padStart(6)} s)   ${Math.round(rows / t.wall).toLocaleString('en').padStart(9)} ${unit}/s`);

try {
  const best: Record<string, { time: Timing; rows: number; unit: string }> = {};
  const keep = (label: string, time: Timing, rows: number, unit: string) => {
    if (!best[label] || time.wall < best[label].time.wall) best[label] = { time, rows, unit };
  };
  for (let round = 1; round <= rounds; round++) {
    console.log(`round ${round}`);
    for (const native of [true, false]) {
      const r = await load(native, round);
      const label = native ? 'native load' : 'read path (JS)';
      line(`  ${label}`, r.time, r.events, 'events');
      console.log(`    ${r.records.toLocaleString('en')} records, ${r.events.toLocaleString('en')} events; ${r.streams}`);
      keep(label, r.time, r.events, 'events');
    }
    const plain = await plainDuckDB(round);
    line('  read_*_auto into tables', plain.time, plain.rows, 'rows');
    keep('read_*_auto into tables', plain.time, plain.rows, 'rows');
  }
  console.log(`best of ${rounds} (wall clock; CPU time of that run in brackets)`);
  for (const [label, b] of Object.entries(best)) line(`  ${label}`, b.time, b.rows, b.unit);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
