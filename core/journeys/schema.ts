// The journeys stage's tables. Public (docs/tables.md): `journeys`, one row per conversion plus one
// open journey per person with touches after their last conversion, and `journey_touchpoints`, the
// ordered touchpoints of each journey (its conversion last). Internal: `journeys_state` (what the
// stored journeys were built from: the last run processed and the configuration's hash) and
// `journeys_scope` (the persons one incremental run rebuilds; filled and emptied inside the stage's
// transaction). On PostgreSQL, keys and indexes serve what analytics and reports ask: a person's
// journeys, journeys by conversion time and by first-touch channel, touchpoints by channel and time,
// and the incremental run's lookups by person and by event. DuckDB gets none (see below).
import type { Migration } from '../store/migrations.ts';

const tz = { useTz: true } as const;

export const journeysMigration: Migration = {
  version: 3,
  name: 'journeys, journey_touchpoints',
  async up(db, dialect) {
    // DuckDB: no keys or indexes on the two big tables. Its ART indexes serve point lookups only (scans
    // use per-block min/max, kept anyway) and turn the stage's bulk replace into minutes: deleting
    // and re-inserting 880k indexed touchpoints took ~130 s against ~1.5 s without (bench/journeys.ts).
    const indexed = dialect === 'postgres';
    await db.schema.createTable('journeys', (t) => {
      t.text('journey_id').notNullable();
      t.text('person_id').notNullable();
      t.text('status').notNullable();
      // Ordinal of the journey among the person's journeys (1 = up to their first conversion).
      t.integer('journey_number').notNullable();
      t.text('conversion_event_id');
      t.text('conversion_name');
      t.timestamp('conversion_at', tz);
      t.double('conversion_value');
      t.text('conversion_currency');
      t.timestamp('started_at', tz).notNullable();
      t.timestamp('ended_at', tz).notNullable();
      t.integer('touch_count').notNullable();
      t.integer('session_count').notNullable();
      for (const c of ['first_touch_channel', 'first_touch_source_medium', 'first_touch_campaign', 'first_touch_device', 'last_touch_channel', 'last_touch_source_medium', 'last_touch_campaign']) t.text(c);
      t.text('run_id');
      if (indexed) {
        t.primary(['journey_id']);
        t.index(['person_id'], 'journeys_person_idx');
        t.index(['conversion_at'], 'journeys_conversion_at_idx');
        t.index(['first_touch_channel', 'conversion_at'], 'journeys_first_touch_channel_idx');
      }
    });
    await db.schema.createTable('journey_touchpoints', (t) => {
      t.text('journey_id').notNullable();
      t.integer('position').notNullable();
      t.text('event_id').notNullable();
      t.text('person_id').notNullable();
      t.timestamp('occurred_at', tz).notNullable();
      t.text('name').notNullable();
      t.text('channel').notNullable();
      for (const c of ['source_medium', 'campaign_id', 'campaign']) t.text(c);
      t.text('stage').notNullable();
      t.text('session_key').notNullable();
      t.text('device');
      t.boolean('is_conversion').notNullable();
      if (indexed) {
        t.primary(['journey_id', 'position']);
        t.index(['person_id'], 'journey_touchpoints_person_idx');
        t.index(['event_id'], 'journey_touchpoints_event_idx');
        t.index(['channel', 'occurred_at'], 'journey_touchpoints_channel_idx');
      }
    });
    await db.schema.createTable('journeys_state', (t) => {
      t.text('stage').primary();
      t.text('run_id').notNullable();
      // The processed run's start: rows of runs that started later are what changed since.
      t.timestamp('run_started_at', tz).notNullable();
      t.text('config_hash').notNullable();
      t.text('mode').notNullable();
      t.timestamp('built_at', tz).notNullable();
    });
    await db.schema.createTable('journeys_scope', (t) => {
      t.text('run_id').notNullable();
      t.text('person_id').notNullable();
      if (indexed) t.primary(['run_id', 'person_id']);
    });
  },
};
