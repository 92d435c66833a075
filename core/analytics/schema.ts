// The analytics stage's public result tables (docs/tables.md, definitions in docs/analytics.md).
// Every row carries the period it was computed for — `period` is its key: `all`, or
// `YYYY-MM-DD..YYYY-MM-DD` (inclusive dates in the pipeline's analytics time zone) — plus its
// bounds and the run that computed it. A stage run replaces all rows of each period it computes, in
// one transaction, so readers see one run's numbers per period, never a mix. Long ("tidy") tables:
// one row per (period, model/funnel/metric, dimension, key), which BI tools pivot as they like.
// Money columns are in the pipeline's reporting currency (`currency` column).
import type { Knex } from 'knex';
import type { Migration } from '../store/migrations.ts';

const tz = { useTz: true } as const;

function periodColumns(t: Knex.CreateTableBuilder): void {
  t.text('period').notNullable();
  t.date('period_start');
  t.date('period_end');
  t.text('run_id').notNullable();
  t.timestamp('computed_at', tz).notNullable();
}

export const ANALYTICS_TABLES = ['funnel_results', 'path_results', 'attribution_results', 'roi_results', 'cx_metrics'] as const;
export type AnalyticsTable = (typeof ANALYTICS_TABLES)[number];

export const analyticsMigration: Migration = {
  version: 4,
  name: 'funnel_results, path_results, attribution_results, roi_results, cx_metrics',
  async up(db, dialect) {
    const indexed = dialect === 'postgres';
    await db.schema.createTable('funnel_results', (t) => {
      periodColumns(t);
      // `stages` (the built-in stage funnel) or a custom funnel's name.
      t.text('funnel').notNullable();
      // `all` (segment_value `(all)`), first_touch_channel, first_touch_campaign, device.
      t.text('segment_type').notNullable();
      t.text('segment_value').notNullable();
      t.integer('step_number').notNullable();
      t.text('step').notNullable();
      t.bigInteger('entrants').notNullable();
      // Entrants of the next step (the last step: its entrants).
      t.bigInteger('conversions').notNullable();
      t.bigInteger('drop_off').notNullable();
      t.double('drop_off_rate');
      // entrants / entrants of step 1.
      t.double('overall_rate');
      t.double('median_seconds_to_next');
      if (indexed) t.index(['period', 'funnel', 'segment_type'], 'funnel_results_idx');
    });
    await db.schema.createTable('path_results', (t) => {
      periodColumns(t);
      // conversion_path | non_conversion_path | path_length | transition | flow
      t.text('kind').notNullable();
      t.boolean('collapsed').notNullable();
      t.integer('rank');
      // Channels joined by ' > ' (paths); the length as text (path_length).
      t.text('path');
      t.integer('length');
      // transition: channel → channel (with `(start)`, `(conversion)`, `(null)`); flow: the same at a step.
      t.text('from_state');
      t.text('to_state');
      t.integer('step');
      t.bigInteger('journeys').notNullable();
      t.double('conversions');
      t.double('revenue');
      t.double('share');
      t.text('currency');
      if (indexed) t.index(['period', 'kind'], 'path_results_idx');
    });
    await db.schema.createTable('attribution_results', (t) => {
      periodColumns(t);
      t.text('model').notNullable();
      // channel | campaign
      t.text('dimension').notNullable();
      // The channel, or the campaign id (else its name).
      t.text('key').notNullable();
      t.text('label');
      t.text('channel');
      t.double('conversions').notNullable();
      t.double('revenue').notNullable();
      t.double('conversion_share');
      t.double('revenue_share');
      t.text('currency');
      if (indexed) t.index(['period', 'model', 'dimension'], 'attribution_results_idx');
    });
    await db.schema.createTable('roi_results', (t) => {
      periodColumns(t);
      t.text('model').notNullable();
      // total | channel | campaign | date (one row per day and channel)
      t.text('dimension').notNullable();
      t.text('key').notNullable();
      t.text('label');
      t.text('channel');
      t.date('date');
      t.double('spend').notNullable();
      t.double('revenue').notNullable();
      t.double('conversions').notNullable();
      t.double('journeys');
      t.double('roas');
      t.double('cpa');
      t.double('cost_per_journey');
      t.text('currency');
      // The comparison period (the same length just before): its figures and the relative changes.
      t.double('prev_spend');
      t.double('prev_revenue');
      t.double('prev_conversions');
      t.double('prev_roas');
      t.double('spend_change');
      t.double('revenue_change');
      t.double('roas_change');
      if (indexed) t.index(['period', 'model', 'dimension'], 'roi_results_idx');
    });
    await db.schema.createTable('cx_metrics', (t) => {
      periodColumns(t);
      t.text('metric').notNullable();
      // `all` (segment_value `(all)`), or what the metric is broken down by (cohort, transition, step, month…).
      t.text('segment_type').notNullable();
      t.text('segment_value').notNullable();
      t.double('value');
      // How many persons / journeys / responses the value is computed from.
      t.bigInteger('n');
      // ratio | seconds | count | score | percent
      t.text('unit');
      if (indexed) t.index(['period', 'metric'], 'cx_metrics_idx');
    });
  },
};

/** Internal: per period key, the run that computed its rows, when, and the settings' hash (state.ts). */
export const analyticsStateMigration: Migration = {
  version: 7,
  name: 'analytics_state',
  async up(db) {
    // Drafts of this release created the table on first use.
    if (await db.schema.hasTable('analytics_state')) return;
    await db.schema.createTable('analytics_state', (t) => {
      t.text('period').primary();
      t.text('config_hash').notNullable();
      t.text('run_id').notNullable();
      t.timestamp('computed_at', tz).notNullable();
    });
  },
};
