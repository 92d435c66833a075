// Which periods' stored results are current, so that a report (or `touchpoint query`) reads what
// the pipeline run just computed instead of computing it again. `analytics_state` holds, per period
// key, the run that computed it, when, and a hash of the settings that shape its numbers (the
// analytics config without `periods`/`as_of`, FX rates as read). Stored results of a period are
// current when the hash matches and no data changed after they were computed: no run other than
// the computing one started or ended after computed_at, and the journeys were not rebuilt after it.
// The table is internal (migration 7, core/analytics/schema.ts).
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { AnalyticsConfig } from './config.ts';
import { fxRates } from './prepare.ts';

export const STATE_TABLE = 'analytics_state';

/** The settings a period's rows depend on, hashed; periods and as_of only pick the period. */
export function configHash(config: AnalyticsConfig): string {
  const { periods: _periods, as_of: _asOf, fx: _fx, ...rest } = config;
  return createHash('sha256')
    .update(JSON.stringify({ ...rest, fx: fxRates(config) }))
    .digest('hex');
}

/** Records that `period` was computed (inside the transaction that wrote its rows). */
export async function recordComputed(trx: Knex.Transaction, period: string, hash: string, runId: string, computedAt: Date): Promise<void> {
  await trx(STATE_TABLE).where({ period }).delete();
  await trx(STATE_TABLE).insert({ period, config_hash: hash, run_id: runId, computed_at: computedAt });
}

const time = (v: unknown): number => (v === null || v === undefined ? Number.NaN : new Date(v as string | Date).getTime());

/** The keys among `keys` whose stored results are current for `config`. */
export async function currentPeriods(db: Knex, config: AnalyticsConfig, keys: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  if (keys.length === 0 || !(await db.schema.hasTable(STATE_TABLE))) return out;
  const hash = configHash(config);
  const states = (await db(STATE_TABLE).whereIn('period', [...keys])) as { period: string; config_hash: string; run_id: string; computed_at: unknown }[];
  const built = (await db.schema.hasTable('journeys_state')) ? time((await db('journeys_state').max({ m: 'built_at' }))[0]?.m) : Number.NaN;
  for (const s of states) {
    if (s.config_hash !== hash) continue;
    const at = time(s.computed_at);
    if (!(at > 0) || built > at) continue;
    const later = await db('runs')
      .whereNot('run_id', s.run_id)
      .andWhere((q) => q.where('started_at', '>', new Date(at)).orWhere('ended_at', '>', new Date(at)))
      .first('run_id');
    if (!later) out.add(s.period);
  }
  return out;
}
