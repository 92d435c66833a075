// What every analytics module receives and returns. The stage (stage.ts) opens one transaction per
// period, fills the period's working tables (prepare.ts: `a_journeys`, `a_touches`, `a_spend`, in
// the reporting currency), then calls each module, which reads them with set-based SQL and returns
// the rows of its result table (small: aggregates, never per-event rows).
import type { Knex } from 'knex';
import type { Logger } from '../sdk/types.ts';
import type { Dialect } from '../store/types.ts';
import type { AnalyticsConfig } from './config.ts';
import type { ResolvedPeriod } from './period.ts';

export interface AnalyticsContext {
  /** The stage's transaction: the working tables are temporary tables of its connection. */
  db: Knex.Transaction;
  dialect: Dialect;
  config: AnalyticsConfig;
  period: ResolvedPeriod;
  /** The comparison period (its working tables are `a_prev_journeys`, `a_prev_touches`, `a_prev_spend`), or null. */
  comparison: ResolvedPeriod | null;
  runId: string;
  log: Logger;
}

/** A result row without the period columns (period, period_start, period_end, run_id, computed_at), which the stage adds. */
export type ResultRow = Record<string, string | number | boolean | null | Date>;

export type AnalyticsModule = (ctx: AnalyticsContext) => Promise<ResultRow[]>;
