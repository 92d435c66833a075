// Benchmark of the journeys stage: a synthetic store of EVENTS events (default 1,000,000) for
// PERSONS persons (default 100,000) with three identifiers each (300,000 identity_map rows),
// generated in SQL (generate_series) so setting it up takes seconds. Each event carries its person's
// ga_client_id, 30% also their email, 2% only an unknown client id (no person); 3% are purchases,
// 70% carry a session id, the rest are sessionised by inactivity. Times: a full build, an
// incremental run with nothing new, and one after 1% of the events were re-loaded. Prints figures;
// asserts nothing.
//   npm exec -- node bench/journeys.ts [store-url] [events] [persons]
//   e.g. npm exec -- node bench/journeys.ts postgres://postgres@127.0.0.1:5432/test?schema=tp_bench_journeys 1000000
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveJourneysConfig } from '../core/journeys/config.ts';
import { buildJourneys } from '../core/journeys/stage.ts';
import { openStore } from '../core/store/index.ts';
import type { Store } from '../core/store/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'touchpoint-bench-journeys-'));
const url = process.argv[2] || `duckdb://${join(dir, 'bench.duckdb')}`;
const EVENTS = Number(process.argv[3] || 1_000_000);
const PERSONS = Number(process.argv[4] || 100_000);

const CHANNELS = ['Paid Search', 'Organic Search', 'Paid Social', 'Organic Social', 'Email', 'Referral', 'Direct', 'Display'];
const channelCase = `case (i * 13) % 9 ${CHANNELS.map((c, k) => `when ${k} then '${c}'`).join(' ')} else null end`;

/** Wall time, and this process's CPU time (DuckDB's threads included): on a busy machine the second is steadier. */
async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(cpu);
  console.log(`${label}: ${((performance.now() - started) / 1000).toFixed(2)} s (cpu ${((used.user + used.system) / 1e6).toFixed(2)} s)`);
  return result;
}

/** A build, timed, with its slowest statements. */
async function build(store: Store, runId: string, label: string): Promise<void> {
  const steps: [string, number][] = [];
  const summary = await timed(label, () => buildJourneys(store, { runId, config: resolveJourneysConfig({}), onStep: (name, ms) => steps.push([name, ms]) }));
  const slowest = steps.toSorted((a, b) => b[1] - a[1]).slice(0, 6);
  console.log(`  ${slowest.map(([name, ms]) => `${name} ${(ms / 1000).toFixed(2)} s`).join(', ')}`);
  console.log(`  ${JSON.stringify(summary)}`);
}

async function startRun(store: Store, runId: string): Promise<void> {
  await store.startRun({ run_id: runId, pipeline: 'bench' });
  // Runs are ordered by start: make sure the next one starts later.
  await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Events i in [from, to) as the generator defines them, loaded by `runId`. */
async function insertEvents(store: Store, runId: string, from: number, to: number, cast = ''): Promise<void> {
  const k = store.knex;
  // person p = i % PERSONS, the person's n-th event = i / PERSONS; events spread over ~half a year with
  // gaps from seconds to days, so some fall within 30 minutes of each other and some do not.
  await k.raw(
    `insert into events (event_id, source, stream, record_pk, occurred_at, kind, name, channel, source_medium, campaign_id, campaign, value, currency, session_id, device, properties, run_id, loaded_at)
     select 'e' || cast(i as text), 'bench', 'events', cast(i as text),
       cast('2025-01-01 00:00:00+00' as timestamptz) + ((i % ${PERSONS}) * 60 + cast(floor(i / ${PERSONS}) as bigint) * 259200 + (i * 7919) % 7200${cast}) * interval '1 second',
       case when (i * 31) % 100 < 3 then 'conversion' when i % 10 = 9 then 'other' else 'touch' end,
       case when (i * 31) % 100 < 3 then 'purchase' when i % 5 = 0 then 'session_start' when i % 5 = 1 then 'add_to_cart' else 'page_view' end,
       ${channelCase}, null, null, case when i % 4 = 0 then 'spring_sale' end,
       case when (i * 31) % 100 < 3 then 50 + (i % 200) end, case when (i * 31) % 100 < 3 then 'EUR' end,
       case when i % 10 < 7 then 'sess-' || cast(i % ${PERSONS} as text) || '-' || cast(floor(i / ${PERSONS}) as text) end,
       case when i % 2 = 0 then 'mobile' else 'desktop' end,
       cast(case when i % 7 = 0 then '{"page_path":"/pricing"}' else '{"page_path":"/"}' end as json),
       ?, now()
     from generate_series(cast(${from} as bigint), cast(${to - 1} as bigint)) as g(i)`,
    [runId],
  );
  await k.raw(
    `insert into identifier_observations (observation_id, identifier_type, identifier_value, source, stream, record_pk, observed_at, run_id)
     select 'e' || cast(i as text), 'ga_client_id', case when i % 50 = 7 then 'unknown-' || cast(i as text) else 'g' || cast(i % ${PERSONS} as text) end, 'bench', 'events', cast(i as text), cast(null as timestamptz), ?
     from generate_series(cast(${from} as bigint), cast(${to - 1} as bigint)) as g(i)
     union all
     select 'e' || cast(i as text), 'email', 'p' || cast(i % ${PERSONS} as text) || '@example.com', 'bench', 'events', cast(i as text), cast(null as timestamptz), ?
     from generate_series(cast(${from} as bigint), cast(${to - 1} as bigint)) as g(i) where i % 10 < 3 and i % 50 <> 7`,
    [runId, runId],
  );
}

const store = await openStore({ url });
try {
  if (store.dialect === 'postgres') {
    for (const t of ['journeys', 'journey_touchpoints', 'journeys_state', 'journeys_scope', 'persons', 'identity_map', 'person_merges', 'identity_rejections', 'identity_changes', 'events', 'identifier_observations', 'spend', 'quarantine', 'stream_state', 'runs', 'schema_migrations']) {
      await store.knex.schema.dropTableIfExists(t);
    }
  }
  await store.migrate();
  const k = store.knex;
  await startRun(store, 'load');
  await timed(`setup: ${EVENTS.toLocaleString('en')} events, ${PERSONS.toLocaleString('en')} persons, ${(3 * PERSONS).toLocaleString('en')} identifiers`, async () => {
    await insertEvents(store, 'load', 0, EVENTS);
    await k.raw(`insert into persons (person_id, identifier_count, created_run_id, updated_run_id) select 'P' || cast(i as text), 3, 'load', 'load' from generate_series(0, ${PERSONS - 1}) as g(i)`);
    await k.raw(
      `insert into identity_map (identifier_type, identifier_value, person_id)
       select t.type, case t.type when 'ga_client_id' then 'g' || cast(i as text) when 'email' then 'p' || cast(i as text) || '@example.com' else 'u' || cast(i as text) end, 'P' || cast(i as text)
       from generate_series(0, ${PERSONS - 1}) as g(i) cross join (select 'ga_client_id' as type union all select 'email' union all select 'user_id') t`,
    );
  });
  // The load's own write-out to the file (DuckDB folds the WAL in at 256MB) is not the build's, nor
  // are PostgreSQL's statistics of the new rows (autovacuum would gather them soon after a load).
  await k.raw(store.dialect === 'duckdb' ? 'checkpoint' : 'analyze events, identifier_observations, identity_map, persons, runs');
  await startRun(store, 'build-1');
  await build(store, 'build-1', 'journeys, full build');
  await startRun(store, 'build-2');
  await build(store, 'build-2', 'journeys, incremental, nothing changed');

  // Re-load 1% of the events (a new run), each moved by a minute: their persons are rebuilt.
  const changed = Math.max(1, Math.floor(EVENTS / 100));
  await startRun(store, 'reload');
  await k.raw(`delete from identifier_observations where observation_id in (select event_id from events where cast(record_pk as bigint) < ${changed})`);
  await k.raw(`delete from events where cast(record_pk as bigint) < ${changed}`);
  await insertEvents(store, 'reload', 0, changed, ' + 60');
  if (store.dialect === 'postgres') await k.raw('analyze events, identifier_observations');
  await startRun(store, 'build-3');
  await build(store, 'build-3', `journeys, incremental, ${changed.toLocaleString('en')} events re-loaded`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
