// A batch of a stream turned into table rows, before any database is involved: rows in column
// order, de-duplicated (the last of equal keys wins), JSON serialised, values checked so that both
// engines store the same thing or both refuse it. write.ts moves these rows.
import { createHash } from 'node:crypto';
import { StoreError } from '../errors.ts';
import type { Column, Row } from './bulk.ts';
import type { BatchWrite } from './types.ts';

const t = (name: string): Column => ({ name, type: 'text' });
export const RAW_COLUMNS: Column[] = [t('_pk'), t('_cursor'), { name: '_record', type: 'json' }, t('_run_id'), { name: '_loaded_at', type: 'timestamptz' }];
export const EVENT_COLUMNS: Column[] = [
  ...['event_id', 'source', 'stream', 'record_pk'].map(t),
  { name: 'occurred_at', type: 'timestamptz' },
  ...['kind', 'name', 'channel', 'source_medium', 'campaign_id', 'campaign'].map(t),
  { name: 'value', type: 'double' },
  ...['currency', 'session_id', 'device'].map(t),
  { name: 'properties', type: 'json' },
  t('run_id'),
  { name: 'loaded_at', type: 'timestamptz' },
];
export const OBSERVATION_COLUMNS: Column[] = [
  ...['observation_id', 'identifier_type', 'identifier_value', 'source', 'stream', 'record_pk'].map(t),
  { name: 'observed_at', type: 'timestamptz' },
  t('run_id'),
];
export const SPEND_COLUMNS: Column[] = [
  ...['spend_id', 'source', 'stream', 'record_pk'].map(t),
  { name: 'date', type: 'date' },
  ...['channel', 'campaign_id', 'campaign'].map(t),
  { name: 'cost', type: 'double' },
  t('currency'),
  { name: 'clicks', type: 'bigint' },
  { name: 'impressions', type: 'bigint' },
  t('run_id'),
];

export interface PreparedBatch {
  raw: Row[];
  events: Row[];
  observations: Row[];
  spend: Row[];
  quarantine: { source: string; stream: string; record_hash: string; reason: string; record: string; run_id: string; quarantined_at: Date }[];
  /** Every record pk the batch touches: their earlier canonical rows are replaced. */
  recordPks: string[];
  eventIds: string[];
  observationIds: string[];
  spendIds: string[];
}

/** JSON with object keys sorted at every level, so equal records hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).toSorted(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  ) ?? 'null';
}

export function recordHash(record: unknown): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
const text = (v: unknown) => (v === undefined || v === null ? null : String(v));
const absent = (v: unknown): v is null | undefined => v === undefined || v === null;

export function prepareBatch(batch: BatchWrite, now: Date = new Date()): PreparedBatch {
  const { source, stream, runId } = batch;
  const where = `${source}/${stream}`;
  const loadedAt = now.toISOString();

  // Last one wins, as a later read of the same record or row would.
  const raw = new Map<string, Row>();
  for (const r of batch.raw) raw.set(r.pk, [r.pk, text(r.cursor), json(r.record), runId, loadedAt]);

  const observations = new Map<string, Row>();
  const observe = (id: string, identifiers: { type: string; value: string }[] | undefined, recordPk: string, at: string | null) => {
    for (const idf of identifiers ?? []) {
      // An empty identifier links nothing, and the key columns cannot hold null.
      if (absent(idf?.type) || absent(idf.value) || idf.value === '') continue;
      const value = String(idf.value);
      observations.set(`${id}\u0000${idf.type}\u0000${value}`, [id, idf.type, value, source, stream, recordPk, at, runId]);
    }
  };
  // De-duplicated before their identifiers are observed: a replaced duplicate leaves no edge behind.
  const events = new Map<string, Row>();
  for (const e of new Map(batch.events.map((ev) => [ev.event_id, ev])).values()) {
    const at = timestamp(e.occurred_at, 'occurred_at', where);
    events.set(e.event_id, [
      e.event_id, source, stream, e.record_pk, at, e.kind, e.name,
      text(e.channel), text(e.source_medium), text(e.campaign_id), text(e.campaign), double(e.value, 'value', where),
      text(e.currency), text(e.session_id), text(e.device), json(e.properties), runId, loadedAt,
    ]);
    observe(e.event_id, e.identifiers, e.record_pk, at);
  }
  // Every event and link id, with identifiers or not, so a re-load clears its earlier edges.
  const observationIds = new Set(events.keys());
  for (const l of new Map(batch.links.map((link) => [link.id, link])).values()) {
    const at = absent(l.observed_at) ? null : timestamp(l.observed_at, 'observed_at', where);
    observationIds.add(`${source}:${stream}:link:${l.id}`);
    observe(`${source}:${stream}:link:${l.id}`, l.identifiers, l.record_pk, at);
  }
  const spend = new Map<string, Row>();
  for (const s of batch.spend) {
    const id = `${source}:${stream}:${s.date}:${s.campaign_id}`;
    spend.set(id, [
      id, source, stream, s.record_pk, s.date, text(s.channel), text(s.campaign_id), text(s.campaign), double(s.cost, 'cost', where),
      text(s.currency), integer(s.clicks, 'clicks', where), integer(s.impressions, 'impressions', where), runId,
    ]);
  }
  const quarantine = new Map<string, PreparedBatch['quarantine'][number]>();
  for (const q of batch.quarantine) {
    const record_hash = recordHash(q.record ?? null);
    if (!quarantine.has(record_hash)) {
      quarantine.set(record_hash, { source, stream, record_hash, reason: q.reason, record: json(q.record ?? null) ?? 'null', run_id: runId, quarantined_at: now });
    }
  }
  // Every record the batch touches, including one that only contributes canonical rows.
  const recordPks = new Set(raw.keys());
  for (const row of events.values()) recordPks.add(row[3] as string);
  for (const row of spend.values()) recordPks.add(row[3] as string);
  for (const row of observations.values()) recordPks.add(row[5] as string);
  return {
    raw: [...raw.values()],
    events: [...events.values()],
    observations: [...observations.values()],
    spend: [...spend.values()],
    quarantine: [...quarantine.values()],
    recordPks: [...recordPks],
    eventIds: [...events.keys()],
    observationIds: [...observationIds],
    spendIds: [...spend.keys()],
  };
}

// date, time, fraction, zone of an ISO 8601 timestamp (extended format, 'T' or a space).
const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:[.,](\d+))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * The instant as UTC text ('…Z'), keeping every fractional digit. Needed because DuckDB's appender
 * casts text to TIMESTAMPTZ ignoring a '+02:00' offset (SQL casts honour it); text with no zone
 * means UTC on both engines and is left alone, as is anything unusual for the database to judge.
 */
export function utcTimestamp(value: string): string {
  const m = ISO.exec(value.trim());
  if (!m) {
    const d = new Date(value);
    return /[zZ]|[+-]\d{2}:?\d{2}$/.test(value) && !Number.isNaN(d.getTime()) ? d.toISOString() : value;
  }
  const [, y, mo, d, h, mi, s = '00', frac, zone] = m;
  if (!zone || zone.toUpperCase() === 'Z') return value;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0));
  const utc = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi) - offsetMin, Number(s)));
  return `${utc.toISOString().slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}

function timestamp(v: unknown, field: string, where: string): string {
  if (v instanceof Date && !Number.isNaN(v.getTime())) return v.toISOString();
  if (typeof v === 'string' && v !== '') return utcTimestamp(v);
  throw new StoreError(`${field} must be an ISO 8601 timestamp (got ${JSON.stringify(v)})`, { where });
}

function double(v: unknown, field: string, where: string): number | null {
  if (v === undefined || v === null) return null;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n === 'number' && Number.isFinite(n)) return n;
  throw new StoreError(`${field} must be a finite number (got ${JSON.stringify(v)})`, { where });
}

function integer(v: unknown, field: string, where: string): number | null {
  const n = double(v, field, where);
  if (n === null || Number.isSafeInteger(n)) return n;
  throw new StoreError(`${field} must be a whole number (got ${JSON.stringify(v)})`, { where });
}
