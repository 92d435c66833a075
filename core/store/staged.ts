// Stores rows a native load staged in temporary tables (core/sdk/types.ts, StagedRows) the way
// writeBatch stores a batch: raw records upserted on their key, the canonical rows of those records
// replaced (rows they no longer produce deleted, the rest upserted on their natural keys, so a row
// another record had made moves to this one), quarantine added once, state moved forward — inside
// the caller's transaction. The ids the store owns are made here, as in batch.ts: event_id
// `${source}:${stream}:${id}`, observation_id = the event_id or `${source}:${stream}:link:${id}`,
// spend_id `${source}:${stream}:${date}:${campaign_id}`. DuckDB only (native loads are).
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Knex } from 'knex';
import type { NativeSql, StagedRows } from '../sdk/types.ts';
import { recordHash } from './batch.ts';
import { toResponse } from './duckdb-client.ts';

export interface StagedTarget {
  runId: string;
  pipeline: string;
  source: string;
  stream: string;
  rawTable: string;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Plain SQL on the transaction's own DuckDB connection (no knex `?` rewriting of generated SQL). */
export async function nativeSql(trx: Knex.Transaction): Promise<NativeSql> {
  const connection = (await trx.client.acquireConnection()) as DuckDBConnection;
  return {
    async query(sql, params) {
      const reader = params && params.length > 0 ? await connection.runAndReadAll(sql, params as never) : await connection.runAndReadAll(sql);
      return toResponse(reader).rows;
    },
  };
}

interface Canonical {
  table: string;
  staged: string;
  columns: string[];
  keys: string[];
}

const EVENT_COLUMNS = ['event_id', 'source', 'stream', 'record_pk', 'occurred_at', 'kind', 'name', 'channel', 'source_medium', 'campaign_id', 'campaign', 'value', 'currency', 'session_id', 'device', 'properties', 'run_id', 'loaded_at'];
const OBSERVATION_COLUMNS = ['observation_id', 'identifier_type', 'identifier_value', 'source', 'stream', 'record_pk', 'observed_at', 'run_id'];
const SPEND_COLUMNS = ['spend_id', 'source', 'stream', 'record_pk', 'date', 'channel', 'campaign_id', 'campaign', 'cost', 'currency', 'clicks', 'impressions', 'run_id'];

/** Returns the number of raw records written (after de-duplication). */
export async function writeStaged(trx: Knex.Transaction, sql: NativeSql, target: StagedTarget, staged: StagedRows, now: Date = new Date()): Promise<number> {
  const { source, stream, runId } = target;
  const prefix = `${source}:${stream}:`;
  const loadedAt = now.toISOString();
  const names = { raw: '_tp_w_raw', events: '_tp_w_events', links: '_tp_w_links', observations: '_tp_w_obs', obsIds: '_tp_w_obs_ids', spend: '_tp_w_spend' };
  const run = async (text: string, params?: unknown[]) => { const t0 = performance.now(); const r = await sql.query(text, params); if (process.env.TP_STAGED_DEBUG) console.log('STAGED', Math.round(performance.now() - t0), text.replace(/\s+/g, ' ').slice(0, 110)); return r; };
  const temp = (name: string, select: string, params?: unknown[]) => run(`create or replace temp table ${name} as ${select}`, params);
  const empty = (columns: string) => `select ${columns} where false`;
  try {
    // Last read wins among equal keys, as in prepareBatch.
    await temp(names.raw, `select distinct on (_pk) _pk, _cursor, _record::json as _record, $1::text as _run_id, $2::timestamptz as _loaded_at from ${quote(staged.raw)} order by _pk, _ord desc`, [runId, loadedAt]);
    const events = staged.events
      ? `select distinct on (id) id, $1::text || id as event_id, $2::text as source, $3::text as stream, record_pk, occurred_at::timestamptz as occurred_at, kind, name,
           channel, source_medium, campaign_id, campaign, value::double as value, currency, session_id, device, properties::json as properties,
           $4::text as run_id, $5::timestamptz as loaded_at, _ord
         from ${quote(staged.events)} order by id, _ord desc`
      : empty(`null::text as id, null::text as event_id, null::text as source, null::text as stream, null::text as record_pk, null::timestamptz as occurred_at, null::text as kind,
           null::text as name, null::text as channel, null::text as source_medium, null::text as campaign_id, null::text as campaign, null::double as value, null::text as currency,
           null::text as session_id, null::text as device, null::json as properties, null::text as run_id, null::timestamptz as loaded_at, null::bigint as _ord`);
    await temp(names.events, events, staged.events ? [prefix, source, stream, runId, loadedAt] : undefined);
    const links = staged.links
      ? `select distinct on (id) id, $1::text || 'link:' || id as observation_id, record_pk, observed_at::timestamptz as observed_at, _ord from ${quote(staged.links)} order by id, _ord desc`
      : empty('null::text as id, null::text as observation_id, null::text as record_pk, null::timestamptz as observed_at, null::bigint as _ord');
    await temp(names.links, links, staged.links ? [prefix] : undefined);
    // Identifiers of the events and links that won: a replaced duplicate leaves no edge behind.
    const parts: string[] = [];
    if (staged.events && staged.eventIdentifiers) {
      parts.push(`select e.event_id as observation_id, i.identifier_type, i.identifier_value, e.record_pk, e.occurred_at as observed_at, 0 as tier, i._ord
        from ${quote(staged.eventIdentifiers)} i join ${names.events} e on e.id = i.id and e._ord = i._ord`);
    }
    if (staged.links && staged.linkIdentifiers) {
      parts.push(`select l.observation_id, i.identifier_type, i.identifier_value, l.record_pk, l.observed_at, 1 as tier, i._ord
        from ${quote(staged.linkIdentifiers)} i join ${names.links} l on l.id = i.id and l._ord = i._ord`);
    }
    await temp(
      names.observations,
      parts.length === 0
        ? empty(`${OBSERVATION_COLUMNS.map((c) => `null::${c === 'observed_at' ? 'timestamptz' : 'text'} as ${c}`).join(', ')}`)
        : `select distinct on (observation_id, identifier_type, identifier_value) observation_id, identifier_type, identifier_value, $1::text as source, $2::text as stream,
             record_pk, observed_at, $3::text as run_id
           from (${parts.join(' union all ')}) o where identifier_value is not null and identifier_value <> ''
           order by observation_id, identifier_type, identifier_value, tier desc, _ord desc`,
      parts.length === 0 ? undefined : [source, stream, runId],
    );
    // Every event and link id, with identifiers or not, so a re-load clears its earlier edges.
    await temp(names.obsIds, `select event_id as observation_id from ${names.events} union select observation_id from ${names.links}`);
    const spend = staged.spend
      ? `select distinct on (spend_id) * exclude (_ord) from (
           select $1::text || date || ':' || campaign_id as spend_id, $2::text as source, $3::text as stream, record_pk, date::date as date, channel, campaign_id, campaign,
             cost::double as cost, currency, clicks::bigint as clicks, impressions::bigint as impressions, $4::text as run_id, _ord
           from ${quote(staged.spend)}) s order by spend_id, _ord desc`
      : empty(`${SPEND_COLUMNS.map((c) => `null::${c === 'date' ? 'date' : c === 'cost' ? 'double' : c === 'clicks' || c === 'impressions' ? 'bigint' : 'text'} as ${c}`).join(', ')}`);
    await temp(names.spend, spend, staged.spend ? [prefix, source, stream, runId] : undefined);

    const rawColumns = ['_pk', '_cursor', '_record', '_run_id', '_loaded_at'];
    await upsert(run, target.rawTable, names.raw, rawColumns, ['_pk']);
    const pks = `select _pk from ${names.raw}`;
    const tables: Canonical[] = [
      { table: 'events', staged: names.events, columns: EVENT_COLUMNS, keys: ['event_id'] },
      { table: 'identifier_observations', staged: names.observations, columns: OBSERVATION_COLUMNS, keys: ['observation_id', 'identifier_type', 'identifier_value'] },
      { table: 'spend', staged: names.spend, columns: SPEND_COLUMNS, keys: ['spend_id'] },
    ];
    for (const c of tables) {
      const keys = c.keys.map(quote).join(', ');
      const gone = `(${keys}) not in (select ${keys} from ${c.staged})`;
      // Rows of these records that they no longer produce …
      await run(`delete from ${c.table} where source = $1 and stream = $2 and record_pk in (${pks}) and ${gone}`, [source, stream]);
      // … and rows under the unit's observation ids that it no longer produces, whichever record
      // stored them. A single-key row it does produce is moved to its new record by the upsert.
      if (c.table === 'identifier_observations') await run(`delete from ${c.table} where observation_id in (select observation_id from ${names.obsIds}) and ${gone}`);
      await upsert(run, c.table, c.staged, c.columns, c.keys);
    }

    const seen = new Set<string>();
    const quarantine = [];
    for (const q of staged.quarantine) {
      const record_hash = recordHash(q.record ?? null);
      if (seen.has(record_hash)) continue;
      seen.add(record_hash);
      quarantine.push({ source, stream, record_hash, reason: q.reason, record: JSON.stringify(q.record ?? null), run_id: runId, quarantined_at: now });
    }
    for (let i = 0; i < quarantine.length; i += 500) {
      await trx('quarantine').insert(quarantine.slice(i, i + 500)).onConflict(['source', 'stream', 'record_hash']).ignore();
    }
    if (staged.state) {
      await trx('stream_state')
        .insert({ pipeline: target.pipeline, source, stream, state: JSON.stringify(staged.state), updated_at: now, run_id: runId })
        .onConflict(['pipeline', 'source', 'stream'])
        .merge(['state', 'updated_at', 'run_id']);
    }
    const [{ n }] = await run(`select count(*) as n from ${names.raw}`);
    return Number(n);
  } finally {
    for (const name of Object.values(names)) await run(`drop table if exists ${name}`).catch(() => undefined);
  }
}

async function upsert(run: (sql: string) => Promise<unknown>, table: string, staged: string, columns: string[], keys: string[]): Promise<void> {
  const cols = columns.map(quote).join(', ');
  const set = columns.filter((c) => !keys.includes(c)).map((c) => `${quote(c)} = excluded.${quote(c)}`);
  await run(`insert into ${quote(table)} (${cols}) select ${cols} from ${staged} on conflict (${keys.map(quote).join(', ')}) do update set ${set.join(', ')}`);
}
