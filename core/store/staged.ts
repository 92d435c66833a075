// Stores rows a native load staged in temporary tables (core/sdk/types.ts, StagedRows) the way
// writeBatch stores a batch: raw records replaced on their key, the canonical rows of those records
// replaced (every stored row of the records and under their ids deleted, then the new rows
// inserted, so a row another record had made moves to this one), quarantine added once, state moved
// forward — inside the caller's transaction. The ids the store owns are made here, as in batch.ts:
// event_id `${source}:${stream}:${id}`, observation_id = the event_id or
// `${source}:${stream}:link:${id}`, spend_id `${source}:${stream}:${date}:${campaign_id}`. DuckDB
// only (native loads are).
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
  /** The rows in the table's shape (a SELECT with `params`). */
  rows: string;
  params: unknown[];
  columns: string[];
  /** The unit's ids in `idColumn` (a SELECT over `$1`, the id prefix): stored rows under them are replaced. */
  idColumn: string;
  ids: string;
}

const EVENT_COLUMNS = ['event_id', 'source', 'stream', 'record_pk', 'occurred_at', 'kind', 'name', 'channel', 'source_medium', 'campaign_id', 'campaign', 'value', 'currency', 'session_id', 'device', 'properties', 'run_id', 'loaded_at'];
const OBSERVATION_COLUMNS = ['observation_id', 'identifier_type', 'identifier_value', 'source', 'stream', 'record_pk', 'observed_at', 'run_id'];
const SPEND_COLUMNS = ['spend_id', 'source', 'stream', 'record_pk', 'date', 'channel', 'campaign_id', 'campaign', 'cost', 'currency', 'clicks', 'impressions', 'run_id'];

/** Returns the number of raw records written (after de-duplication). */
export async function writeStaged(trx: Knex.Transaction, sql: NativeSql, target: StagedTarget, staged: StagedRows, now: Date = new Date()): Promise<number> {
  const { source, stream, runId } = target;
  const prefix = `${source}:${stream}:`;
  const loadedAt = now.toISOString();
  const temps: string[] = [];
  const run = (text: string, params?: unknown[]) => sql.query(text, params);
  /** The relation with the last row (highest `_ord`) of each key; itself when keys are unique. */
  const lastPerKey = async (relation: string, keys: string[], name: string): Promise<string> => {
    const list = keys.join(', ');
    const [{ n }] = await run(`select count(*) as n from (select ${list} from ${relation} group by ${list} having count(*) > 1)`);
    if (Number(n) === 0) return relation;
    temps.push(name);
    await run(`create or replace temp table ${name} as select distinct on (${list}) * from ${relation} order by ${list}, _ord desc`);
    return name;
  };
  try {
    const raw = await lastPerKey(quote(staged.raw), ['_pk'], '_tp_w_raw');
    const none = (columns: string) => `(select ${columns} where false)`;
    const events = staged.events
      ? await lastPerKey(quote(staged.events), ['id'], '_tp_w_events')
      : none(`null::text as id, null::text as record_pk, null::text as occurred_at, null::text as kind, null::text as name, null::text as channel, null::text as source_medium,
          null::text as campaign_id, null::text as campaign, null::double as value, null::text as currency, null::text as session_id, null::text as device, null::text as properties, null::bigint as _ord`);
    const links = staged.links ? await lastPerKey(quote(staged.links), ['id'], '_tp_w_links') : none('null::text as id, null::bigint as _ord');
    // Identifiers of the events and links that won: a replaced duplicate leaves no edge behind.
    const parts: string[] = [];
    const winners = (identifiers: string, owners: string, observation: string, tier: number) =>
      `select ${observation} as observation_id, i.identifier_type, i.identifier_value, i.record_pk, i.observed_at, ${tier} as tier, i._ord from ${quote(identifiers)} i` +
      (owners.startsWith('_tp_w_') ? ` join ${owners} o on o.id = i.id and o._ord = i._ord` : '');
    if (staged.events && staged.eventIdentifiers) parts.push(winners(staged.eventIdentifiers, events, `$1::text || i.id`, 0));
    if (staged.links && staged.linkIdentifiers) parts.push(winners(staged.linkIdentifiers, links, `$1::text || 'link:' || i.id`, 1));
    temps.push('_tp_w_obs_all');
    await run(
      `create or replace temp table _tp_w_obs_all as ${
        parts.length === 0
          ? 'select null::text as observation_id, null::text as identifier_type, null::text as identifier_value, null::text as record_pk, null::text as observed_at, 0 as tier, null::bigint as _ord where false'
          : parts.join(' union all ')
      }`,
      parts.length === 0 ? undefined : [prefix],
    );
    const [{ n: dupObs }] = await run(
      `select count(*) as n from (select observation_id, identifier_type, identifier_value from _tp_w_obs_all group by all having count(*) > 1)`,
    );
    const observations = Number(dupObs) === 0 ? '_tp_w_obs_all' : '_tp_w_obs';
    if (observations === '_tp_w_obs') {
      temps.push('_tp_w_obs');
      await run(`create or replace temp table _tp_w_obs as select distinct on (observation_id, identifier_type, identifier_value) * from _tp_w_obs_all
        order by observation_id, identifier_type, identifier_value, tier desc, _ord desc`);
    }
    const spend = staged.spend
      ? await lastPerKey(quote(staged.spend), ['date', 'campaign_id'], '_tp_w_spend')
      : none(`null::text as record_pk, null::text as date, null::text as channel, null::text as campaign_id, null::text as campaign, null::double as cost, null::text as currency,
          null::double as clicks, null::double as impressions, null::bigint as _ord`);

    // Replaced, not upserted: DuckDB's tables have no keys (migration 6). The rows above are unique
    // per key, so deleting every stored row of the unit's records and under its ids, then inserting,
    // leaves one row per key, and a row another record had made moves to this one. The ids all start
    // with `${source}:${stream}:`, so those rows are this stream's: the scans skip other streams'
    // row groups by their min/max.
    await run(`delete from ${quote(target.rawTable)} where _pk in (select _pk from ${raw})`);
    await run(
      `insert into ${quote(target.rawTable)} (_pk, _cursor, _record, _run_id, _loaded_at) select _pk, _cursor, _record::json, $1, $2::timestamptz from ${raw}`,
      [runId, loadedAt],
    );
    const tables: Canonical[] = [
      {
        table: 'events',
        rows: `select $1::text || id as event_id, $2::text as source, $3::text as stream, record_pk, occurred_at::timestamptz as occurred_at, kind, name, channel, source_medium,
          campaign_id, campaign, value::double as value, currency, session_id, device, properties::json as properties, $4::text as run_id, $5::timestamptz as loaded_at from ${events}`,
        params: [prefix, source, stream, runId, loadedAt],
        columns: EVENT_COLUMNS,
        idColumn: 'event_id',
        ids: `select $1::text || id from ${events}`,
      },
      {
        table: 'identifier_observations',
        rows: `select observation_id, identifier_type, identifier_value, $1::text as source, $2::text as stream, record_pk, observed_at::timestamptz as observed_at, $3::text as run_id from ${observations}`,
        params: [source, stream, runId],
        columns: OBSERVATION_COLUMNS,
        idColumn: 'observation_id',
        // Every event and link id, with identifiers or not, so a re-load clears its earlier edges.
        ids: `select $1::text || id from ${events} union all select $1::text || 'link:' || id from ${links}`,
      },
      {
        table: 'spend',
        rows: `select $1::text || date || ':' || campaign_id as spend_id, $2::text as source, $3::text as stream, record_pk, date::date as date, channel, campaign_id, campaign,
          cost::double as cost, currency, clicks::bigint as clicks, impressions::bigint as impressions, $4::text as run_id from ${spend}`,
        params: [prefix, source, stream, runId],
        columns: SPEND_COLUMNS,
        idColumn: 'spend_id',
        ids: `select $1::text || date || ':' || campaign_id from ${spend}`,
      },
    ];
    for (const c of tables) {
      // Two deletes: one with `or` between the lists took longer than both.
      await run(`delete from ${c.table} where source = $1 and stream = $2 and record_pk in (select _pk from ${raw})`, [source, stream]);
      await run(`delete from ${c.table} where source = $2 and stream = $3 and ${c.idColumn} in (${c.ids})`, [prefix, source, stream]);
      await run(`insert into ${quote(c.table)} (${c.columns.map(quote).join(', ')}) ${c.rows}`, c.params);
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
    const [{ n }] = await run(`select count(*) as n from ${raw}`);
    return Number(n);
  } finally {
    for (const name of temps) await run(`drop table if exists ${name}`).catch(() => undefined);
  }
}
