// Benchmark of attribution and ROI: JOURNEYS journeys (default 100,000; a third converting, 1–8
// touches each, ~450k touchpoints) over 30 channels and 300 campaigns in 90 days, plus 27,000 spend
// rows in EUR and USD, generated straight into journeys / journey_touchpoints / spend with
// generate_series. Times prepare(), then attribution + ROI per model (each alone), all models
// together (the target: < 2 s on DuckDB), and the whole analytics stage (computeAnalytics, every
// module) with its slowest statements (knex query events). Prints wall and CPU times (the latter
// steadier on a shared machine); asserts nothing. --quick skips the per-model runs.
//   npm exec -- node bench/analytics.ts [postgres-url] [journeys] [--quick]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeAttribution } from '../core/analytics/attribution.ts';
import { ATTRIBUTION_MODELS, DEFAULTS } from '../core/analytics/config.ts';
import type { AnalyticsConfig } from '../core/analytics/config.ts';
import { comparisonPeriod, resolvePeriod } from '../core/analytics/period.ts';
import { prepare } from '../core/analytics/prepare.ts';
import { computeRoi } from '../core/analytics/roi.ts';
import { computeAnalytics } from '../core/analytics/stage.ts';
import type { AnalyticsContext } from '../core/analytics/types.ts';
import { silentLogger } from '../core/sdk/log.ts';
import type { Logger } from '../core/sdk/types.ts';
import { openStore } from '../core/store/index.ts';
import type { Store } from '../core/store/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'touchpoint-bench-analytics-'));
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const QUICK = process.argv.includes('--quick');
const pgBase = args[0]?.startsWith('postgres') ? args[0] : undefined;
const JOURNEYS = Number(args[pgBase ? 1 : 0] || 100_000);
const schema = `tp_bench_analytics_${process.pid}`;
const url = pgBase ? `${pgBase}${pgBase.includes('?') ? '&' : '?'}schema=${schema}` : `duckdb://${join(dir, 'bench.duckdb')}`;

async function generate(store: Store): Promise<void> {
  const k = store.knex;
  const t0 = 'to_timestamp(1735689600 + (i % 90) * 86400 + (i * 7919) % 43200)';
  // Touch k of journey i is k × step after its start; the conversion one step after the last touch.
  await k.raw(`insert into journeys (journey_id, person_id, status, journey_number, conversion_event_id, conversion_name, conversion_at,
      conversion_value, conversion_currency, started_at, ended_at, touch_count, session_count, first_touch_channel, last_touch_channel)
    select 'j' || cast(i as text), 'p' || cast(i as text), case when i % 3 = 0 then 'converted' else 'open' end, 1,
      case when i % 3 = 0 then 'j' || cast(i as text) || '-c' end, case when i % 3 = 0 then 'purchase' end,
      case when i % 3 = 0 then ${t0} + ((i % 8) + 2) * ((i % 5) + 1) * interval '1 hour' end,
      case when i % 3 = 0 then 20 + (i * 37) % 400 end, case when i % 3 = 0 then case when i % 4 = 0 then 'USD' else 'EUR' end end,
      ${t0}, ${t0} + ((i % 8) + 2) * ((i % 5) + 1) * interval '1 hour', (i % 8) + 1 + case when i % 3 = 0 then 1 else 0 end, 1,
      null, null
    from generate_series(1, ${JOURNEYS}) as g(i)`);
  await k.raw(`insert into journey_touchpoints (journey_id, position, event_id, person_id, occurred_at, name, channel, source_medium, campaign_id, campaign,
      stage, session_key, device, is_conversion)
    select 'j' || cast(i as text), n, 'j' || cast(i as text) || '-' || cast(n as text), 'p' || cast(i as text),
      ${t0} + n * ((i % 5) + 1) * interval '1 hour',
      case when conv then 'purchase' else 'page_view' end,
      'ch' || cast(c as text), null,
      case when conv or (i + n) % 7 = 0 then null else 'c' || cast(c as text) || '_' || cast((i + n) % 10 as text) end,
      case when conv then null else 'Campaign ' || cast(c as text) || '_' || cast((i + n) % 10 as text) end,
      'awareness', 'j' || cast(i as text) || '-' || cast(n as text), 'desktop', conv
    from (
      select i, n, n = (i % 8) + 2 as conv, (i * 31 + n * 17 + n * n * 7) % 30 as c
      from generate_series(1, ${JOURNEYS}) as g(i) cross join generate_series(1, 9) as m(n)
      where n <= (i % 8) + 1 or (n = (i % 8) + 2 and i % 3 = 0)
    ) x`);
  await k.raw(`insert into spend (spend_id, source, stream, record_pk, date, channel, campaign_id, campaign, cost, currency, clicks, impressions)
    select 's' || cast(d as text) || '_' || cast(c as text), 'bench', 'spend', cast(d as text) || '_' || cast(c as text),
      cast('2025-01-01' as date) + cast(d as integer), 'ch' || cast(cast(floor(c / 10.0) as integer) as text), 'c' || cast(cast(floor(c / 10.0) as integer) as text) || '_' || cast(c % 10 as text),
      'Campaign ' || cast(cast(floor(c / 10.0) as integer) as text) || '_' || cast(c % 10 as text), 5 + (d * c) % 50, case when c % 2 = 0 then 'USD' else 'EUR' end, 0, 0
    from generate_series(0, 89) as a(d) cross join generate_series(0, 299) as b(c)`);
  if (store.dialect === 'postgres') for (const t of ['journeys', 'journey_touchpoints', 'spend']) await k.raw(`analyze ${t}`);
}

let lastCpuMs = 0;

/** Wall ms; lastCpuMs gets this process's CPU time (DuckDB's threads included), steadier on a busy machine. */
async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(cpu);
  lastCpuMs = (used.user + used.system) / 1000;
  return [result, performance.now() - started];
}

/** prepare() + attribution + ROI for `models`, in a transaction rolled back afterwards: [prepare ms, attribution+ROI ms, rows]. */
async function run(store: Store, config: AnalyticsConfig, period: string, log: Logger = silentLogger): Promise<[number, number, number, number]> {
  const p = resolvePeriod(period, '2025-04-01', 'UTC');
  let out: [number, number, number, number] = [0, 0, 0, 0];
  const rollback = new Error('rollback');
  await store.knex
    .transaction(async (db) => {
      const ctx: AnalyticsContext = { db, dialect: store.dialect, config, period: p, comparison: comparisonPeriod(p, config.comparison), runId: 'bench', log };
      const [, prepared] = await timed(() => prepare(ctx));
      const [rows, ms] = await timed(async () => (await computeAttribution(ctx)).length + (await computeRoi(ctx)).length);
      out = [prepared, ms, rows, lastCpuMs];
      throw rollback;
    })
    .catch((e: unknown) => {
      if (e !== rollback) throw e;
    });
  return out;
}

/** Wall time per statement text (whitespace squeezed, cut to 110 characters), from knex's query events. */
function profileStatements(store: Store): { clear(): void; top(n: number): [string, number][] } {
  const open = new Map<string, [string, number]>();
  const spent = new Map<string, number>();
  const key = (q: { sql?: string }) => String(q.sql ?? '').replace(/\s+/g, ' ').slice(0, 110);
  store.knex.on('query', (q: { __knexQueryUid: string; sql?: string }) => void open.set(q.__knexQueryUid, [key(q), performance.now()]));
  const done = (_: unknown, q: { __knexQueryUid: string }) => {
    const o = open.get(q.__knexQueryUid);
    if (!o) return;
    open.delete(q.__knexQueryUid);
    spent.set(o[0], (spent.get(o[0]) ?? 0) + performance.now() - o[1]);
  };
  store.knex.on('query-response', done);
  store.knex.on('query-error', done);
  return { clear: () => spent.clear(), top: (n) => [...spent].sort((a, b) => b[1] - a[1]).slice(0, n) };
}

const store = await openStore({ url });
try {
  await store.migrate();
  const [, genMs] = await timed(() => generate(store));
  const counts = (await store.knex.raw('select (select count(*) from journeys) as j, (select count(*) from journey_touchpoints) as t, (select count(*) from spend) as s')).rows[0];
  console.log(`${store.dialect}: ${counts.j} journeys, ${counts.t} touchpoints, ${counts.s} spend rows (generated in ${(genMs / 1000).toFixed(1)} s)`);
  const base: AnalyticsConfig = { ...DEFAULTS, fx: { rates: { USD: 0.92 } }, attribution: { ...DEFAULTS.attribution, direct_channels: ['ch0'] } };
  for (const period of ['all', '2025-03-01..2025-03-31']) {
    console.log(`period ${period}${period === 'all' ? '' : ' (with its comparison period)'}:`);
    for (const model of QUICK ? [] : ATTRIBUTION_MODELS) {
      const [, ms, , cpu] = await run(store, { ...base, attribution: { ...base.attribution, models: [model] } }, period);
      console.log(`  ${model.padEnd(16)} ${ms.toFixed(0).padStart(6)} ms  (cpu ${cpu.toFixed(0)} ms)`);
    }
    const steps: string[] = [];
    const stepLog: Logger = { ...silentLogger, debug: (m: string, f?: Record<string, unknown>) => void steps.push(`${m.replace('analytics: attribution ', '')} ${f?.ms}`), child: () => stepLog };
    const [prepMs, ms, rows, cpu] = await run(store, base, period, stepLog);
    console.log(`  all models       ${ms.toFixed(0).padStart(6)} ms  (cpu ${cpu.toFixed(0)} ms; ${rows} rows; prepare ${prepMs.toFixed(0)} ms)`);
    console.log(`    steps (ms): ${steps.join(', ')}`);
  }
  const modules: string[] = [];
  const log: Logger = { ...silentLogger, debug: (m: string, f?: Record<string, unknown>) => void modules.push(`${m.replace('analytics: ', '')} ${f?.ms} ms`), child: () => log };
  const statements = profileStatements(store);
  for (const periods of [['all'], ['all', 'last_month', 'last_30_days']]) {
    modules.length = 0;
    statements.clear();
    try {
      const [, ms] = await timed(() => computeAnalytics(store, base, { runId: 'bench', log, periods, now: new Date('2025-04-01T00:00:00Z') }));
      console.log(`computeAnalytics (every module, periods ${periods.join(', ')}, stored): ${ms.toFixed(0)} ms (cpu ${lastCpuMs.toFixed(0)} ms)${periods.length === 1 ? ` — ${modules.join(', ')}` : ''}`);
      if (periods.length === 1) {
        const top = statements.top(12);
        console.log(`  slowest statements: ${top.map(([text, spent]) => `\n    ${spent.toFixed(0).padStart(6)} ms  ${text}`).join('')}`);
      }
    } catch (e) {
      console.log(`computeAnalytics failed: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  console.log(`load average: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  if (store.dialect === 'postgres') await store.knex.raw(`drop schema if exists "${schema}" cascade`);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
