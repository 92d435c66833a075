// Reads and writes of the delivery ledger (`deliveries`) and the scheduler's state (`schedule_state`),
// the same SQL on DuckDB and PostgreSQL. Writes are upserts on the tables' keys, one row at a time,
// each committed on its own: a delivery that dies half-way keeps every `sent` row it wrote.
import type { Knex } from 'knex';
import type { DeliveryRow, DeliveryStatus } from './schema.ts';

export type { DeliveryRow, DeliveryStatus } from './schema.ts';

export interface DeliveryWrite {
  report: string;
  period: string;
  recipient: string;
  role: string;
  status: DeliveryStatus;
  attempts: number;
  message_id?: string | null;
  error?: string | null;
  subject?: string | null;
  run_id?: string | null;
  delivery_id: string;
  first_attempt_at?: Date | null;
  sent_at?: Date | null;
  updated_at: Date;
}

function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

function toRow(r: Record<string, unknown>): DeliveryRow {
  return {
    report: String(r.report),
    period: String(r.period),
    recipient: String(r.recipient),
    role: String(r.role),
    status: r.status as DeliveryStatus,
    attempts: Number(r.attempts),
    message_id: (r.message_id as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    subject: (r.subject as string | null) ?? null,
    run_id: (r.run_id as string | null) ?? null,
    delivery_id: String(r.delivery_id),
    first_attempt_at: iso(r.first_attempt_at),
    sent_at: iso(r.sent_at),
    updated_at: iso(r.updated_at)!,
  };
}

/** The ledger rows of one report (and period, when given), by recipient. */
export async function listDeliveries(db: Knex, report: string, period?: string): Promise<DeliveryRow[]> {
  const query = db('deliveries').where({ report }).orderBy(['period', 'recipient']).select('*');
  if (period !== undefined) query.andWhere({ period });
  return (await query).map(toRow);
}

/** Inserts or replaces the row of (report, period, recipient). */
export async function recordDelivery(db: Knex, row: DeliveryWrite): Promise<void> {
  const values = {
    message_id: null,
    error: null,
    subject: null,
    run_id: null,
    first_attempt_at: null,
    sent_at: null,
    ...row,
  };
  await db('deliveries').insert(values).onConflict(['report', 'period', 'recipient']).merge();
}

/** When the report was last sent to anyone (any period), or null. */
export async function lastSentAt(db: Knex, report: string): Promise<Date | null> {
  const row = await db('deliveries').where({ report, status: 'sent' }).max({ at: 'sent_at' }).first();
  const at = iso(row?.at);
  return at ? new Date(at) : null;
}

/** The last cron occurrence fired for a report, or null when it never fired. */
export async function lastOccurrence(db: Knex, report: string): Promise<Date | null> {
  const row = await db('schedule_state').where({ report }).first('last_occurrence');
  const at = iso(row?.last_occurrence);
  return at ? new Date(at) : null;
}

/**
 * Records that `occurrence` fired. Never moves backwards: two workers (or a catch-up racing a live
 * occurrence) may record out of order.
 */
export async function recordOccurrence(db: Knex, report: string, occurrence: Date, now: Date): Promise<void> {
  await db.raw(
    `insert into schedule_state (report, last_occurrence, updated_at) values (?, ?, ?)
     on conflict (report) do update set
       last_occurrence = case when excluded.last_occurrence > schedule_state.last_occurrence then excluded.last_occurrence else schedule_state.last_occurrence end,
       updated_at = excluded.updated_at`,
    [report, occurrence, now],
  );
}
