// The `journeys` stage: builds journeys and journey_touchpoints from events and the identity stage's
// identity_map, in one transaction, so readers see the old journeys or the new, never a mix.
// The first build, a changed `journeys:` configuration (or assembly version) and `mode: 'full'`
// rebuild everything; otherwise only persons whose events or identity changed since the last run
// this stage processed are deleted and rebuilt (incremental.ts), which gives the same rows as a full
// build. When most persons changed anyway a full build is cheaper, and is what runs.
import type { Stage } from '../engine/stages.ts';
import { RunError } from '../errors.ts';
import type { Logger } from '../sdk/types.ts';
import type { Store } from '../store/types.ts';
import { TEMP_TABLES, assemblyStatements, countEventsWithoutOwner } from './assemble.ts';
import { configHash, resolveJourneysConfig } from './config.ts';
import type { JourneysConfig } from './config.ts';
import { SCOPE_TEMP_TABLES, countChangedEventsWithoutPerson, scopeSteps } from './incremental.ts';
import { refill } from '../store/rebuild.ts';
import { exec, raw, sql } from '../store/sql.ts';
import type { Fragment, Step } from '../store/sql.ts';

/** Above this share of all persons, an incremental build rebuilds everything instead. */
const FULL_REBUILD_SHARE = 0.5;
const STATE_KEY = 'journeys';
// Any fixed 64-bit number, distinct from the migrations' lock.
const BUILD_LOCK = 7_411_505_020_263;

export interface BuildOptions {
  /** The run doing the build: its start is the watermark the next build compares with. */
  runId: string;
  config: JourneysConfig;
  /** `auto` (default): incremental when the stored journeys allow it; `full` (`run --full-refresh`): everything. */
  mode?: 'auto' | 'full';
  log?: Logger;
  /** Above this share of all persons to rebuild, rebuild everyone instead (default 0.5; tests set 1). */
  fullRebuildShare?: number;
  /** Called after each SQL statement with its name and duration (benchmarks, debugging). */
  onStep?: (name: string, ms: number) => void;
  /** PostgreSQL: how long a full build waits for readers to let go of the tables before it rebuilds them with their indexes in place. */
  lockTimeoutMs?: number;
}

export interface BuildSummary {
  mode: 'full' | 'incremental';
  /** Persons whose journeys were rebuilt (all persons with journeys, on a full build). */
  persons_rebuilt: number;
  /** Totals in the tables after the build. */
  journeys: number;
  open_journeys: number;
  touchpoints: number;
  /** Events with no person, left out of every journey: all of them on a full build… */
  events_without_person?: number;
  /** …and among the events loaded since the last build on an incremental one. */
  changed_events_without_person?: number;
}

export const journeysStage: Stage = {
  name: 'journeys',
  description: "orders each person's touchpoints into journeys that end at conversions",
  async run(ctx) {
    const config = resolveJourneysConfig(ctx.pipeline.config.journeys);
    const log = ctx.log.child({ stage: 'journeys' });
    const onStep = (step: string, ms: number) => log.debug(`journeys: ${step}`, { ms: Math.round(ms) });
    const mode = ctx.fullRefresh === true ? 'full' : 'auto';
    return { ...(await buildJourneys(ctx.store, { runId: ctx.runId, config, mode, log, onStep })) };
  },
};

export async function buildJourneys(store: Store, options: BuildOptions): Promise<BuildSummary> {
  const db = store.knex;
  const { runId, config } = options;
  const hash = configHash(config);
  const ledger = await db('runs').where({ run_id: runId }).first('started_at');
  if (!ledger) throw new RunError(`run ${runId} is not in the run ledger`, { hint: 'start the run (store.startRun) before building journeys' });
  const runStarted = asDate(ledger.started_at);

  const summary = await db.transaction(async (trx): Promise<BuildSummary> => {
    const run = async (name: string, fragment: Fragment) => {
      const started = performance.now();
      const result = await exec(trx, fragment);
      options.onStep?.(name, performance.now() - started);
      return result;
    };
    const count = async (name: string, fragment: Fragment) => Number((await run(name, fragment)).rows[0].n);
    const runAll = async (steps: Step[]) => {
      for (const step of steps) await run(step.name, step.sql);
    };

    // Two builds at once would each replace the same rows; on PostgreSQL the second waits for the
    // first (a DuckDB file has a single writer anyway).
    if (store.dialect === 'postgres') await trx.raw('select pg_advisory_xact_lock(?)', [BUILD_LOCK]);
    const state = await trx('journeys_state').where({ stage: STATE_KEY }).first('run_started_at', 'config_hash');
    let mode: BuildSummary['mode'] = options.mode !== 'full' && state && state.config_hash === hash ? 'incremental' : 'full';
    let rebuilt = 0;
    let withoutPerson = 0;
    await runAll(dropTempTables());
    if (mode === 'incremental') {
      const since = asDate(state.run_started_at);
      await runAll(scopeSteps(runId, since, store.dialect));
      rebuilt = await count('count scope', sql`select count(distinct person_id) as n from journeys_scope where run_id = ${runId}`);
      const persons = await count('count persons', sql`select count(*) as n from persons`);
      if (rebuilt > (options.fullRebuildShare ?? FULL_REBUILD_SHARE) * persons) mode = 'full';
      else {
        if (rebuilt > 0) {
          const inScope = sql`person_id in (select person_id from journeys_scope where run_id = ${runId})`;
          await run('delete touchpoints', sql`delete from journey_touchpoints where ${inScope}`);
          await run('delete journeys', sql`delete from journeys where ${inScope}`);
          await runAll(assemblyStatements({ config, dialect: store.dialect, scope: runId, runId }));
        }
        withoutPerson = await count('count without person', countChangedEventsWithoutPerson());
      }
      await run('clear scope', sql`delete from journeys_scope where run_id = ${runId}`);
    }
    if (mode === 'full') {
      // PostgreSQL: filled without their indexes, then indexed once, unless readers hold the tables
      // past the lock timeout (core/store/rebuild.ts).
      await refill(trx, store.dialect, ['journey_touchpoints', 'journeys'], () => runAll(assemblyStatements({ config, dialect: store.dialect, scope: null, runId })), {
        lockTimeoutMs: options.lockTimeoutMs,
        log: options.log,
        onStep: options.onStep,
      });
      // Statistics of the new rows for the analytics that follow (autovacuum would gather them later).
      if (store.dialect === 'postgres') await run('analyze', sql`analyze journeys, journey_touchpoints`);
      rebuilt = await count('count persons', sql`select count(distinct person_id) as n from journeys`);
      withoutPerson = await count('count without person', countEventsWithoutOwner());
    }
    await runAll(dropTempTables());
    await trx('journeys_state')
      .insert({ stage: STATE_KEY, run_id: runId, run_started_at: runStarted, config_hash: hash, mode, built_at: new Date() })
      .onConflict('stage')
      .merge();
    const totals = (await run('totals', sql`select count(*) as n, coalesce(sum(case when status = 'open' then 1 else 0 end), 0) as open from journeys`)).rows[0];
    const touchpoints = await count('count touchpoints', sql`select count(*) as n from journey_touchpoints`);
    const open = Number(totals.open);
    return {
      mode,
      persons_rebuilt: rebuilt,
      journeys: Number(totals.n) - open,
      open_journeys: open,
      touchpoints,
      ...(mode === 'full' ? { events_without_person: withoutPerson } : { changed_events_without_person: withoutPerson }),
    };
  });
  const unresolved = summary.events_without_person ?? summary.changed_events_without_person ?? 0;
  if (unresolved > 0) options.log?.info(`${unresolved} event(s) have no person (no identifier in identity_map) and are in no journey`, { unresolved });
  return summary;
}

/** Drops every temporary table of a build: before it (a pooled connection may hold some) and after. */
function dropTempTables(): Step[] {
  return [...TEMP_TABLES, ...SCOPE_TEMP_TABLES].map((t) => ({ name: `drop ${t}`, sql: raw(`drop table if exists ${t}`) }));
}

function asDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}
