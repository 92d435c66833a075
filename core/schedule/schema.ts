// The delivery ledger and the scheduler's memory (migration 5). `deliveries` is public
// (docs/tables.md, docs/delivery.md): one row per (report, period, recipient) — the unique key is what
// makes sending idempotent on both engines: a report run again for the same period never mails a
// recipient whose row says `sent` (unless --resend), and a failure half-way keeps the rows already
// `sent`. `schedule_state` is internal: the last cron occurrence the scheduler fired per report, the
// starting point of catch-up after downtime. Neither table ever holds a secret: errors are redacted
// before they are written.
import type { Knex } from 'knex';
import type { Migration } from '../store/migrations.ts';

const tz = { useTz: true } as const;

export const DELIVERY_STATUSES = ['sent', 'failed', 'blocked', 'skipped'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One row of `deliveries` as read back (timestamps as ISO strings). */
export interface DeliveryRow {
  report: string;
  /** The period key (`all` or `YYYY-MM-DD..YYYY-MM-DD`), as in the result tables. */
  period: string;
  recipient: string;
  /** to | cc | bcc */
  role: string;
  status: DeliveryStatus;
  attempts: number;
  message_id: string | null;
  error: string | null;
  subject: string | null;
  /** The latest successful pipeline run whose data the report showed. */
  run_id: string | null;
  /** Groups the rows written by one delivery (one `deliverReport` call). */
  delivery_id: string;
  first_attempt_at: string | null;
  sent_at: string | null;
  updated_at: string;
}

export const deliveriesMigration: Migration = {
  version: 5,
  name: 'deliveries, schedule_state',
  async up(db: Knex.Transaction) {
    await db.schema.createTable('deliveries', (t) => {
      t.text('report').notNullable();
      t.text('period').notNullable();
      t.text('recipient').notNullable();
      t.text('role').notNullable();
      t.text('status').notNullable();
      t.integer('attempts').notNullable();
      t.text('message_id');
      t.text('error');
      t.text('subject');
      t.text('run_id');
      t.text('delivery_id').notNullable();
      t.timestamp('first_attempt_at', tz);
      t.timestamp('sent_at', tz);
      t.timestamp('updated_at', tz).notNullable();
      // A primary key on both engines: small table, and the key is the idempotency guard.
      t.primary(['report', 'period', 'recipient']);
    });
    await db.schema.createTable('schedule_state', (t) => {
      t.text('report').primary();
      t.timestamp('last_occurrence', tz).notNullable();
      t.timestamp('updated_at', tz).notNullable();
    });
  },
};
