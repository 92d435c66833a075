// `npm run bench [-- --size S|M|L] [--store duckdb|postgres]`: the whole pipeline on a seeded demo
// world of ~100k / 1M / 10M events (bench/generator, several sources, several identifiers per
// person, sessions, deals, spend), stage by stage — extract+load, identity, journeys, analytics,
// report — each with its time, rows/s and the process's peak RSS; then the limits it competes with,
// measured in the same run (reference.ts: DuckDB's plain read of the same files, COPY of the same
// rows on PostgreSQL, a plain union-find over the same links) and the ratios; then an incremental
// re-run after 1% new events. Prints the issue's targets as PASS/MISS and writes
// bench/results/<date>-<size>-<store>.json. Generating the world is timed but not counted; it is
// kept in bench/data/<size> (gitignored) and reused while its manifest matches. Asserts nothing.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { loadPipeline } from '../core/config/pipeline.ts';
import { runPipeline } from '../core/engine/run.ts';
import type { RunResult } from '../core/engine/run.ts';
import { createLogger } from '../core/sdk/log.ts';
import { openStore } from '../core/store/index.ts';
import type { Store } from '../core/store/types.ts';
import { parseBenchArgs, UsageError, USAGE } from './args.ts';
import type { BenchOptions } from './args.ts';
import { generateDemo } from './generator/demo.ts';
import { generateIncrement } from './generator/increment.ts';
import { loadAverage, mb, measure, seconds } from './measure.ts';
import type { StageMeasure } from './measure.ts';
import type { ReferenceResult } from './reference.ts';
import { checkTargets, ratios, resultFileName, stageResult } from './results.ts';
import type { BenchResult, StageResult } from './results.ts';
import { renderReports } from './stages.ts';

const ROOT = resolve(import.meta.dirname, '..');
const INCREMENT_FILE = /^events-increment-.*\.ndjson\.gz$/;

let options: BenchOptions;
try {
  const parsed = parseBenchArgs(process.argv.slice(2), process.env);
  if (parsed === 'help') {
    console.log(USAGE);
    process.exit(0);
  }
  options = parsed;
} catch (error) {
  if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error;
  console.error(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}

const log = createLogger({ secrets: [], level: 'error', write: (line) => void process.stderr.write(`${line}\n`) });
const loadBefore = loadAverage();
const data = resolve(ROOT, options.data ?? `bench/data/${options.size}`);
const scratch = mkdtempSync(join(tmpdir(), `touchpoint-bench-${options.size}-${options.store}-`));
const pgSchema = `tp_bench_${options.size.toLowerCase()}`;
const storeUrl = options.store === 'duckdb' ? `duckdb://${join(scratch, 'bench.duckdb')}` : `${options.pgUrl}${options.pgUrl.includes('?') ? '&' : '?'}schema=${pgSchema}`;

console.log(`bench ${options.size} on ${options.store} — ${availableParallelism()} cpus, load ${loadBefore}, node ${process.versions.node}`);

/** Generator source hash: a world made by another version of bench/generator is made again. */
function generatorHash(): string {
  const dir = join(ROOT, 'bench/generator');
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.ts')).toSorted()) hash.update(name).update(readFileSync(join(dir, name)));
  return hash.digest('hex').slice(0, 16);
}

async function world(): Promise<{ generateMs: number | null; files: number }> {
  const marker = join(data, 'bench-world.json');
  const wanted = { people: options.people, seed: options.seed, generator: generatorHash() };
  if (existsSync(marker) && existsSync(join(data, 'manifest.json'))) {
    const m = JSON.parse(readFileSync(marker, 'utf8')) as typeof wanted & { files: number };
    if (m.people === wanted.people && m.seed === wanted.seed && m.generator === wanted.generator) {
      console.log(`world: reusing ${data} (${m.people.toLocaleString('en')} people, seed ${m.seed})`);
      return { generateMs: null, files: m.files };
    }
  }
  process.stdout.write(`generate: ${options.people.toLocaleString('en')} people into ${data} …`);
  const w = await generateDemo({ out: data, people: options.people, seed: options.seed });
  const rows = w.files.reduce((n, f) => n + f.rows, 0);
  console.log(` ${rows.toLocaleString('en')} rows in ${w.files.length} files, ${seconds(w.ms)} (not counted)`);
  writeFileSync(marker, `${JSON.stringify({ ...wanted, files: w.files.length })}\n`);
  return { generateMs: w.ms, files: w.files.length };
}

function removeIncrements(): void {
  const web = join(data, 'web');
  if (existsSync(web)) for (const name of readdirSync(web)) if (INCREMENT_FILE.test(name)) rmSync(join(web, name));
}

/** pipelines/demo.yaml pointed at the generated world, with the chosen concurrency. */
function writePipeline(): string {
  const file = join(scratch, 'bench.yaml');
  const text = readFileSync(join(ROOT, 'pipelines/demo.yaml'), 'utf8').replaceAll('../data/demo/', `${data}/`);
  writeFileSync(file, `${text.replace(/^name: demo$/m, 'name: bench')}\nsettings:\n  concurrency: ${options.concurrency}\n`);
  return file;
}

async function resetPostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: options.pgUrl });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${pgSchema}" cascade`);
  } finally {
    await client.end();
  }
}

async function pgReachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: options.pgUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The store, with the bench's DuckDB memory limit applied (a global setting of the instance). */
async function open(): Promise<Store> {
  const store = await openStore({ url: storeUrl });
  if (options.store === 'duckdb' && options.duckdbMemoryLimit) await store.knex.raw(`set memory_limit = '${options.duckdbMemoryLimit}'`);
  return store;
}

async function count(store: Store, table: string): Promise<number> {
  try {
    const [row] = (await store.knex.raw(`select count(*) as n from ${table}`)).rows as { n: string | number }[];
    return Number(row.n);
  } catch {
    return 0;
  }
}

function reference(args: string[]): Promise<ReferenceResult | { error: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'bench/reference.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        if (code === 0) return done(JSON.parse(last) as ReferenceResult);
      } catch {
        // reported below
      }
      done({ error: `exit ${code}: ${err.trim().split('\n').slice(-3).join(' / ')}` });
    });
  });
}

function printStage(s: StageResult): void {
  const rate = s.status === 'done' && s.rows > 0 ? `${s.rowsPerSecond.toLocaleString('en').padStart(10)} ${s.unit}/s` : ''.padStart(12);
  const status = s.status === 'done' ? '' : `  ${s.status.toUpperCase()}${s.note ? `: ${s.note}` : ''}`;
  console.log(`  ${s.name.padEnd(13)} ${seconds(s.ms).padStart(9)}  cpu ${seconds(s.cpuMs).padStart(9)}  ${s.rows.toLocaleString('en').padStart(11)} ${s.unit.padEnd(12)} ${rate}  peak ${String(mb(s.peakRssBytes)).padStart(5)} MB${status}`);
}

async function pipelineStage(store: Store, file: string, only: string): Promise<{ run: RunResult; m: StageMeasure }> {
  const pipeline = loadPipeline(file, { env: process.env });
  const { result: run, measure: m } = await measure(() => runPipeline(pipeline, { log, env: process.env, only, store }));
  return { run, m };
}

function stageOf(run: RunResult, name: string): RunResult['stages'][number] | undefined {
  return run.stages.find((s) => s.name === name);
}

/** The newest S result on this store, for time(M) / time(S). */
function previousS(): BenchResult | undefined {
  const dir = resolve(ROOT, options.results);
  if (!existsSync(dir)) return undefined;
  const name = readdirSync(dir).filter((n) => n.endsWith(`-S-${options.store}.json`)).toSorted().pop();
  return name ? (JSON.parse(readFileSync(join(dir, name), 'utf8')) as BenchResult) : undefined;
}

const pgProblem = await pgReachable();
if (options.store === 'postgres' && pgProblem) {
  console.error(`PostgreSQL at ${options.pgUrl} is not reachable: ${pgProblem}`);
  process.exit(1);
}

try {
  const w = await world();
  removeIncrements();
  const pipelineFile = writePipeline();
  if (options.store === 'postgres') await resetPostgres();
  console.log(`store: ${storeUrl}; pipeline settings.concurrency ${options.concurrency}${options.duckdbMemoryLimit ? `; DuckDB memory_limit ${options.duckdbMemoryLimit}` : ''}`);

  let store = await open();
  await store.migrate();
  const baselineRss = process.memoryUsage().rss;
  console.log(`RSS before the first stage (modules loaded, store open): ${mb(baselineRss)} MB`);
  const stages: StageResult[] = [];
  const add = (s: StageResult) => {
    stages.push(s);
    printStage(s);
  };

  console.log('full run');
  const extract = await pipelineStage(store, pipelineFile, 'extract');
  const records = extract.run.streams.reduce((n, s) => n + s.records, 0);
  const ex = stageResult('extract+load', extract.m, records, 'records', extract.run.status === 'succeeded' ? 'done' : 'failed', extract.run.error?.split('\n')[0]);
  ex.summary = Object.fromEntries(extract.run.streams.map((s) => [`${s.source}/${s.stream}`, { records: s.records, ms: (s.endedAt ?? s.startedAt) - s.startedAt }]));
  add(ex);
  const counts = { events: await count(store, 'events'), observations: await count(store, 'identifier_observations') };
  for (const [name, rows, unit] of [
    ['identity', counts.observations, 'observations'],
    ['journeys', counts.events, 'events'],
    ['analytics', 0, 'touchpoints'],
  ] as const) {
    const { run, m } = await pipelineStage(store, pipelineFile, name);
    const st = stageOf(run, name);
    const n = name === 'analytics' ? await count(store, 'journey_touchpoints') : rows;
    const s = stageResult(name, m, n, unit, st?.status ?? 'failed', st?.error?.split('\n')[0]);
    s.summary = st?.summary;
    add(s);
  }
  const report = await measure(() => renderReports(store, { pipeline: loadPipeline(pipelineFile, { env: process.env }), out: join(scratch, 'reports'), root: ROOT, log }));
  add(stageResult('report', report.measure, report.result.rendered, 'reports', report.result.status, report.result.note));

  const worldCounts = {
    ...counts,
    persons: await count(store, 'persons'),
    journeys: await count(store, 'journeys'),
  };
  const counted = stages.filter((s) => s.status !== 'skipped');
  const total = { ms: counted.reduce((n, s) => n + s.ms, 0), peakRssBytes: Math.max(...stages.map((s) => s.peakRssBytes)) };
  console.log(`  ${'total'.padEnd(13)} ${seconds(total.ms).padStart(9)}  (generate excluded)  ${worldCounts.events.toLocaleString('en')} events, ${worldCounts.persons.toLocaleString('en')} persons, ${worldCounts.journeys.toLocaleString('en')} journeys  peak ${mb(total.peakRssBytes)} MB`);

  // References run in child processes; the DuckDB file must be free for the read-only union-find.
  await store.close();
  const references: BenchResult['references'] = {};
  if (options.references) {
    console.log(`references (child processes), load ${loadAverage()}`);
    references.duckdbRead = await reference(['duckdb-read', data, scratch]);
    references.pgCopy = pgProblem ? { error: `PostgreSQL not reachable: ${pgProblem}` } : await reference(['pg-copy', data, options.pgUrl, `${pgSchema}_copy`]);
    references.unionFind = await reference(options.store === 'duckdb' ? ['union-find', join(scratch, 'bench.duckdb')] : ['union-find', options.pgUrl, pgSchema]);
    for (const [name, r] of Object.entries(references)) {
      if (!r || 'error' in r) console.log(`  ${name.padEnd(13)} ${r?.error}`);
      else console.log(`  ${name.padEnd(13)} ${seconds(r.ms).padStart(9)}  ${r.rows.toLocaleString('en').padStart(11)} rows   ${Math.round((r.rows / r.ms) * 1000).toLocaleString('en').padStart(10)} rows/s  peak ${String(mb(r.peakRssBytes)).padStart(5)} MB${r.readMs !== undefined ? `  (+ ${seconds(r.readMs)} to read the links; ${r.identifiers?.toLocaleString('en')} identifiers, ${r.components?.toLocaleString('en')} components)` : ''}`);
    }
  }
  const rat = ratios({ stages, total, references });
  console.log(`ratios (ours / reference): ${Object.entries(rat).map(([k, v]) => `${k} ${v ?? 'n/a'}`).join(', ')}`);

  let incremental: BenchResult['incremental'] = null;
  if (options.increment > 0) {
    const manifest = JSON.parse(readFileSync(join(data, 'manifest.json'), 'utf8')) as { end: string };
    const next = new Date(Date.parse(`${manifest.end}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const inc = await generateIncrement({ out: data, events: Math.max(1, Math.round(worldCounts.events * options.increment)), seed: options.seed + 1, start: next, file: `events-increment-${options.seed + 1}.ndjson.gz` });
    console.log(`incremental re-run: +${inc.events.toLocaleString('en')} events (${((inc.events / worldCounts.events) * 100).toFixed(2)}%) in a new file, load ${loadAverage()}`);
    store = await open();
    const pipeline = loadPipeline(pipelineFile, { env: process.env });
    const { result: run, measure: m } = await measure(() => runPipeline(pipeline, { log, env: process.env, store }));
    const rep = await measure(() => renderReports(store, { pipeline, out: join(scratch, 'reports-incremental'), root: ROOT, log }));
    const incStages = run.stages.map((s) => ({ name: s.name === 'extract' ? 'extract+load' : s.name, status: s.status, ms: s.ms, cpuMs: 0, rows: 0, unit: '', rowsPerSecond: 0, peakRssBytes: m.peakRssBytes, note: s.error?.split('\n')[0] }) as StageResult);
    incStages.push(stageResult('report', rep.measure, rep.result.rendered, 'reports', rep.result.status, rep.result.note));
    const ms = m.ms + rep.measure.ms;
    incremental = { share: options.increment, newEvents: inc.events, ms: Math.round(ms), peakRssBytes: Math.max(m.peakRssBytes, rep.measure.peakRssBytes), ratioToFull: Math.round((ms / total.ms) * 1000) / 1000, stages: incStages };
    for (const s of incStages) console.log(`  ${s.name.padEnd(13)} ${seconds(s.ms).padStart(9)}  ${s.status}${s.note ? `: ${s.note}` : ''}`);
    console.log(`  ${'total'.padEnd(13)} ${seconds(ms).padStart(9)}  = ${(incremental.ratioToFull * 100).toFixed(1)}% of the full run (${run.status}), peak ${mb(incremental.peakRssBytes)} MB`);
    await store.close();
    removeIncrements();
  }

  const date = new Date();
  const partial: Omit<BenchResult, 'targets'> = {
    version: 1,
    date: date.toISOString(),
    size: options.size,
    store: options.store,
    storeUrl: storeUrl.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@'),
    machine: { cpus: availableParallelism(), totalMemoryBytes: totalmem(), node: process.versions.node, loadBefore, loadAfter: loadAverage(), baselineRssBytes: baselineRss },
    world: { people: options.people, seed: options.seed, data, generateMs: w.generateMs, files: w.files, records, ...worldCounts },
    concurrency: options.concurrency,
    duckdbMemoryLimit: options.duckdbMemoryLimit ?? null,
    stages,
    total,
    references,
    ratios: rat,
    incremental,
  };
  const result: BenchResult = { ...partial, targets: checkTargets(partial, options.size === 'M' ? previousS() : undefined) };
  console.log('targets (benchmarks, not tests)');
  for (const t of result.targets) console.log(`  ${t.status.padEnd(4)} ${t.name}: ${t.value} (target ${t.target})${t.note ? ` — ${t.note}` : ''}`);
  const dir = resolve(ROOT, options.results);
  mkdirSync(dir, { recursive: true });
  const out = join(dir, resultFileName(date, options.size, options.store));
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written ${out} (load ${result.machine.loadAfter})`);
} finally {
  removeIncrements();
  if (!options.keep) {
    rmSync(scratch, { recursive: true, force: true });
    if (options.store === 'postgres') await resetPostgres().catch(() => {});
  } else {
    console.log(`kept: ${scratch}${options.store === 'postgres' ? ` and schema ${pgSchema}` : ''}`);
  }
}
