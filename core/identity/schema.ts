// The identity stage's tables (migration 2). Public, documented in docs/tables.md and read by the
// journeys stage and users' BI tools: `persons`, `identity_map` (identifier → person, the contract),
// `person_merges` (merges and splits of stable person ids), `identity_rejections` (what a guard or
// rule kept apart, with the identifier responsible) and `identity_changes` (persons whose identifier
// set changed, per run: what the journeys stage rebuilds). Internal bookkeeping for incremental runs:
// `identity_nodes` (each identifier's unguarded connected component and how many observations it
// had: the components to recompute when an observation is added, changed or removed) and
// `identity_state` (the run and configuration the stored persons were built from).
import type { Migration } from '../store/migrations.ts';

const tz = { useTz: true } as const;

export const identityMigration: Migration = {
  version: 2,
  name: 'persons, identity_map, person_merges, identity_rejections, identity_changes',
  async up(db, dialect) {
    // Keys and indexes serve PostgreSQL's planner and the lookups of BI tools. DuckDB joins by hashing
    // whatever the indexes, and maintaining ART indexes dominated the stage's writes: inserting 332k
    // identity_map rows and committing took ~2 s with its key and index against ~0.4 s without
    // (bench/stitch-journeys.ts). The stage itself keeps the keys unique on both engines.
    const indexed = dialect === 'postgres';
    await db.schema.createTable('persons', (t) => {
      t.text('person_id').notNullable();
      if (indexed) t.primary(['person_id']);
      t.timestamp('first_seen_at', tz).nullable();
      t.timestamp('last_seen_at', tz).nullable();
      t.integer('identifier_count').notNullable();
      t.text('created_run_id');
      t.text('updated_run_id');
    });
    await db.schema.createTable('identity_map', (t) => {
      t.text('identifier_type').notNullable();
      t.text('identifier_value').notNullable();
      t.text('person_id').notNullable();
      if (indexed) {
        t.primary(['identifier_type', 'identifier_value']);
        t.index(['person_id'], 'identity_map_person_idx');
      }
    });
    await db.schema.createTable('person_merges', (t) => {
      t.text('run_id').notNullable();
      // merge: other_person_id's identifiers joined person_id, whose id survives;
      // split: identifiers of person_id left to form other_person_id.
      t.text('action').notNullable();
      t.text('person_id').notNullable();
      t.text('other_person_id').notNullable();
      t.json('identifiers');
      t.text('explanation');
      // Not `at`: DuckDB reserves that word (AT TIME ZONE), and every BI query would have to quote it.
      t.timestamp('changed_at', tz).notNullable();
      if (indexed) {
        t.index(['person_id'], 'person_merges_person_idx');
        t.index(['other_person_id'], 'person_merges_other_person_idx');
      }
    });
    await db.schema.createTable('identity_rejections', (t) => {
      t.text('run_id').notNullable();
      t.text('rule').notNullable();
      t.text('identifier_type').notNullable();
      t.text('identifier_value').notNullable();
      t.text('other_identifier_type');
      t.text('other_identifier_value');
      t.text('person_id');
      t.text('other_person_id');
      t.text('detail');
      // The unguarded component it belongs to (null for blocklisted values): rows are replaced with it.
      t.text('component_key');
      if (indexed) {
        t.index(['identifier_type', 'identifier_value'], 'identity_rejections_identifier_idx');
        t.index(['component_key'], 'identity_rejections_component_idx');
      }
    });
    await db.schema.createTable('identity_changes', (t) => {
      t.text('run_id').notNullable();
      t.text('person_id').notNullable();
      // created | updated | merged | removed
      t.text('change').notNullable();
      if (indexed) {
        t.primary(['run_id', 'person_id']);
        t.index(['person_id'], 'identity_changes_person_idx');
      }
    });
    await db.schema.createTable('identity_nodes', (t) => {
      t.text('identifier_type').notNullable();
      t.text('identifier_value').notNullable();
      t.text('component_key').notNullable();
      // Observations of it when last stitched: a different count now means one was added or removed.
      t.bigInteger('observations').notNullable();
      // PostgreSQL looks scopes up through these (330k rows on DuckDB: 1.5 s to write with them, 0.47 s without).
      if (indexed) {
        t.primary(['identifier_type', 'identifier_value']);
        t.index(['component_key'], 'identity_nodes_component_idx');
      }
    });
    await db.schema.createTable('identity_state', (t) => {
      t.text('stage').primary();
      t.text('run_id').notNullable();
      // The processed run's start: observations of runs that started later are what changed since.
      t.timestamp('run_started_at', tz).notNullable();
      t.text('config_hash').notNullable();
      t.text('mode').notNullable();
      t.timestamp('built_at', tz).notNullable();
    });
  },
};
