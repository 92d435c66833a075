// Benchmark of issue #4's target: stitching and journeys together on one world of EVENTS web events
// (default 1,000,000) for PERSONS persons (default 100,000, about 330,000 identifiers; see
// bench/identity-world.ts), on a fresh store: a first identity run, then a full journeys build, as a
// pipeline run does them. Prints wall and CPU time per stage, the total, and the slowest statements
// of each (all of them with PROFILE=1, each statement in the order it ran with SEQ=1); asserts nothing. Timings depend on the machine's load: run
// it a few times and keep the best. HASH=1 also prints a digest of each output table (row order
// ignored; person_merges left out: it holds the run's clock), to show a change leaves them identical.
//   npm exec -- node bench/stitch-journeys.ts [store-url] [events] [persons]
//   e.g. npm exec -- node bench/stitch-journeys.ts postgres://postgres@127.0.0.1:5432/test?schema=tp_bench_stitch
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveIdentityConfig } from '../core/identity/config.ts';
import { runIdentity } from '../core/identity/stage.ts';
import { resolveJourneysConfig } from '../core/journeys/config.ts';
import { buildJourneys } from '../core/journeys/stage.ts';
import { openStore } from '../core/store/index.ts';
import { insertContacts, insertEventIdentifiers, insertEvents } from './identity-world.ts';
import { loadAverage, measure, seconds } from './measure.ts';

const dir = mkdtempSync(join(tmpdir(), 'touchpoint-bench-stitch-'));
const url = process.argv[2] || `duckdb://${join(dir, 'bench.duckdb')}`;
const EVENTS = Number(process.argv[3] || 1_000_000);
const world = { persons: Number(process.argv[4] || 100_000) };
const PROFILE = process.env.PROFILE === '1';
const HASH = process.env.HASH === '1';
const SEQ = process.env.SEQ === '1';
const HASHED = ['persons', 'identity_map', 'identity_nodes', 'identity_rejections', 'identity_changes', 'journeys', 'journey_touchpoints'];

/** Wall and CPU time (DuckDB's threads included) of `work`, and its statements, slowest first. */
async function timed<T>(label: string, work: (onStep: (name: string, ms: number) => void) => Promise<T>): Promise<{ result: T; ms: number }> {
  const steps = new Map<string, number>();
  let calls = 0;
  const onStep = (name: string, ms: number) => {
    calls++;
    if (SEQ) console.log(`  ${String(Math.round(ms)).padStart(6)} ms  #${calls} ${name}`);
    steps.set(name, (steps.get(name) ?? 0) + ms);
  };
  const { result, measure: m } = await measure(() => work(onStep));
  const inStatements = [...steps.values()].reduce((a, b) => a + b, 0);
  console.log(`${label}: ${seconds(m.ms)} (cpu ${seconds(m.cpuMs)}; ${calls} statements took ${seconds(inStatements)}, the rest is the commit and Node)`);
  const slowest = [...steps].toSorted((a, b) => b[1] - a[1]);
  for (const [name, stepMs] of PROFILE ? slowest : slowest.slice(0, 8)) console.log(`  ${String(Math.round(stepMs)).padStart(6)} ms  ${name}`);
  return { result, ms: m.ms };
}

const store = await openStore({ url });
try {
  if (store.dialect === 'postgres') {
    // A fresh schema each run: every table of an earlier run's store goes.
    const tables = (await store.knex.raw('select tablename from pg_tables where schemaname = current_schema()')).rows as { tablename: string }[];
    for (const { tablename } of tables) await store.knex.schema.dropTableIfExists(tablename);
  }
  await store.migrate();
  await store.startRun({ run_id: 'load', pipeline: 'bench' });
  const setup = performance.now();
  await insertEventIdentifiers(store, world, 'load', 0, EVENTS);
  await insertContacts(store, world, 'load');
  await insertEvents(store, world, 'load', 0, EVENTS, true);
  // The load's own write-out (DuckDB folds the WAL in at 256MB) and PostgreSQL's statistics of the
  // new rows (autovacuum would gather them soon after a load) are the load's cost, not the stages'.
  await store.knex.raw(store.dialect === 'duckdb' ? 'checkpoint' : 'analyze events, identifier_observations');
  const [counts] = (
    await store.knex.raw(
      'select (select count(*) from events) as events, (select count(*) from identifier_observations) as observations, (select count(distinct identifier_type || identifier_value) from identifier_observations) as ids',
    )
  ).rows;
  console.log(
    `setup (${store.dialect}): ${Number(counts.events).toLocaleString('en')} events, ${Number(counts.observations).toLocaleString('en')} observations, ${Number(counts.ids).toLocaleString('en')} identifiers in ${seconds(performance.now() - setup)}`,
  );
  const identity = await timed('identity, first run', (onStep) => runIdentity(store, { config: resolveIdentityConfig({}), runId: 'load', onStep }));
  const s = identity.result;
  console.log(`  persons=${s.persons} rounds=${s.rounds} rejected=${JSON.stringify(s.rejected)} ms=${JSON.stringify(s.ms)}`);
  const journeys = await timed('journeys, full build', (onStep) => buildJourneys(store, { runId: 'load', config: resolveJourneysConfig({}), onStep }));
  console.log(`  ${JSON.stringify(journeys.result)}`);
  if (HASH) {
    for (const table of HASHED) {
      const columns = (await store.knex(table).columnInfo()) as Record<string, unknown>;
      const row = Object.keys(columns).map((c) => `coalesce(cast(${c} as text), '~')`).join(", '|', ");
      const [h] = (await store.knex.raw(`select count(*) as n, md5(string_agg(r, ',' order by r)) as h from (select concat(${row}) as r from ${table}) t`)).rows;
      console.log(`  hash ${table}: ${Number(h.n)} rows ${h.h}`);
    }
  }
  console.log(`stitching + journeys: ${seconds(identity.ms + journeys.ms)} (load average ${loadAverage()})`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
