// The Store on both engines, with real parts: a DuckDB file in a temp folder and a schema on the
// PostgreSQL test server. Migrations, batch upserts, the one-transaction guarantee, quarantine,
// state and the run ledger.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, expect, it } from 'vitest';
import { StoreError } from '../errors.ts';
import { openStore } from './index.ts';
import { migrations } from './migrations.ts';
import { describeEachEngine } from './test-support.ts';
import type { BatchWrite, Store, StoredEvent } from './types.ts';

setFlagsFromString('--expose-gc');
const forceGc = runInNewContext('gc') as () => void;

const event = (id: string, recordPk: string, over: Partial<StoredEvent> = {}): StoredEvent => ({
  event_id: `crm:contacts:${id}`,
  record_pk: recordPk,
  id,
  occurred_at: '2024-05-01T10:00:00Z',
  kind: 'touch',
  name: 'form_submit',
  identifiers: [{ type: 'email', value: `${recordPk}@example.com` }],
  ...over,
});

function batch(records: { pk: string; v?: number; events?: StoredEvent[] }[], over: Partial<BatchWrite> = {}): BatchWrite {
  return {
    runId: 'run-1',
    pipeline: 'acme',
    source: 'crm',
    stream: 'contacts',
    raw: records.map((r) => ({ pk: r.pk, cursor: `2024-05-0${r.v ?? 1}`, record: { id: r.pk, v: r.v ?? 1 } })),
    events: records.flatMap((r) => r.events ?? [event(`${r.pk}-1`, r.pk)]),
    links: records.map((r) => ({ id: r.pk, record_pk: r.pk, identifiers: [{ type: 'email', value: `${r.pk}@example.com` }, { type: 'user_id', value: r.pk }] })),
    spend: [],
    quarantine: [],
    ...over,
  };
}

describeEachEngine('store', (engine) => {
  const open: Store[] = [];
  const fresh = async () => {
    const store = await openStore({ url: await engine.freshUrl() });
    open.push(store);
    await store.migrate();
    return store;
  };
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  it('applies migrations once; running them again changes nothing', async () => {
    const url = await engine.freshUrl();
    const store = await openStore({ url });
    open.push(store);
    await store.migrate();
    await store.migrate();
    await store.close();
    open.pop();
    const again = await openStore({ url });
    open.push(again);
    await again.migrate();
    const applied = await again.knex('schema_migrations').select('version', 'name').orderBy('version');
    expect(applied).toEqual(migrations.map((m) => ({ version: m.version, name: m.name })));
    expect(applied[0]).toEqual({ version: 1, name: 'runs, stream_state, quarantine, events, identifier_observations, spend' });
    expect(await again.counts()).toEqual({ runs: 0, stream_state: 0, events: 0, identifier_observations: 0, spend: 0, quarantine: 0 });
  });

  it('writes a batch idempotently: the same batch twice gives the same rows', async () => {
    const store = await fresh();
    const b = batch([{ pk: 'a' }, { pk: 'b' }], {
      spend: [{ record_pk: 'a', date: '2024-05-01', channel: 'paid_search', campaign_id: 'c1', cost: 12.5, currency: 'EUR', clicks: 3, impressions: 100 }],
      state: { cursor: '2024-05-01' },
    });
    await store.writeBatch(b);
    const once = await store.counts();
    await store.writeBatch(b);
    expect(await store.counts()).toEqual(once);
    expect(once).toMatchObject({ events: 2, identifier_observations: 6, spend: 1, stream_state: 1, raw_crm_contacts: 2 });
    expect(await store.knex('spend').first('spend_id', 'date', 'cost', 'clicks')).toEqual({ spend_id: 'crm:contacts:2024-05-01:c1', date: '2024-05-01', cost: 12.5, clicks: 3 });
  });

  it('replaces a changed record and all of its earlier canonical rows', async () => {
    const store = await fresh();
    await store.writeBatch(batch([{ pk: 'a', events: [event('a-1', 'a'), event('a-2', 'a')] }, { pk: 'b' }]));
    await store.writeBatch(batch([{ pk: 'a', v: 2, events: [event('a-3', 'a', { name: 'call', value: 99 })] }], { runId: 'run-2' }));
    expect(await store.knex('events').where({ record_pk: 'a' }).select('event_id', 'name', 'value', 'run_id')).toEqual([
      { event_id: 'crm:contacts:a-3', name: 'call', value: 99, run_id: 'run-2' },
    ]);
    expect(await store.knex('identifier_observations').where({ record_pk: 'a' }).orderBy(['observation_id', 'identifier_type']).pluck('observation_id')).toEqual([
      'crm:contacts:a-3',
      'crm:contacts:link:a',
      'crm:contacts:link:a',
    ]);
    expect(await store.knex('raw_crm_contacts').orderBy('_pk').select('_pk', '_record', '_run_id')).toEqual([
      { _pk: 'a', _record: { id: 'a', v: 2 }, _run_id: 'run-2' },
      { _pk: 'b', _record: { id: 'b', v: 1 }, _run_id: 'run-1' },
    ]);
    expect(await store.knex('events').where({ record_pk: 'b' }).count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  it('moves an event id another record produced before (primary-key collision) to the new record', async () => {
    const store = await fresh();
    await store.writeBatch(batch([{ pk: 'a', events: [event('shared', 'a')] }]));
    await store.writeBatch(batch([{ pk: 'b', events: [event('shared', 'b')] }]));
    expect(await store.knex('events').select('event_id', 'record_pk')).toEqual([{ event_id: 'crm:contacts:shared', record_pk: 'b' }]);
    expect(await store.knex('identifier_observations').where({ observation_id: 'crm:contacts:shared' }).select('identifier_value', 'record_pk')).toEqual([
      { identifier_value: 'b@example.com', record_pk: 'b' },
    ]);
    expect(await store.counts()).toMatchObject({ raw_crm_contacts: 2, events: 1 });
  });

  it('commits the state in the same transaction: a failing batch leaves neither rows nor state', async () => {
    const store = await fresh();
    await store.writeBatch(batch([{ pk: 'a' }], { state: { cursor: 'one' } }));
    const before = await store.counts();
    // Rows and raw records are valid; the event's timestamp is rejected by the database itself,
    // after the raw rows of this batch were already written inside the transaction.
    const bad = batch([{ pk: 'b' }, { pk: 'c', events: [event('c-1', 'c', { occurred_at: 'not-a-timestamp' })] }], {
      state: { cursor: 'two' },
      quarantine: [{ reason: 'x', record: { q: 1 } }],
    });
    const failure = await store.writeBatch(bad).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(StoreError);
    expect((failure as StoreError).where).toBe('crm/contacts');
    expect((failure as StoreError).message).toMatch(/could not store a batch of 2 record\(s\)/);
    expect(await store.counts()).toEqual(before);
    expect(await store.getState('acme', 'crm', 'contacts')).toEqual({ cursor: 'one' });
  });

  it('quarantines a record once, however often it comes back', async () => {
    const store = await fresh();
    const q = { reason: 'schema: /email must be string', record: { id: 9, email: 1 } };
    await store.writeBatch(batch([], { quarantine: [q, { ...q }] }));
    await store.writeBatch(batch([], { runId: 'run-2', quarantine: [{ reason: 'again', record: { email: 1, id: 9 } }, { reason: 'line 3', record: 'a,b' }] }));
    const rows = await store.knex('quarantine').orderBy('reason').select('reason', 'record', 'run_id');
    expect(rows).toEqual([
      { reason: 'line 3', record: 'a,b', run_id: 'run-2' },
      { reason: 'schema: /email must be string', record: { id: 9, email: 1 }, run_id: 'run-1' },
    ]);
  });

  it('keeps state per stream and resets one stream or a whole source', async () => {
    const store = await fresh();
    for (const stream of ['contacts', 'deals']) await store.writeBatch(batch([], { stream, state: { cursor: stream } }));
    await store.writeBatch(batch([], { source: 'ads', stream: 'spend', state: { day: '2024-05-01' } }));
    await store.writeBatch(batch([], { stream: 'deals', state: { cursor: 'deals-2' } }));
    expect(await store.getState('acme', 'crm', 'deals')).toEqual({ cursor: 'deals-2' });
    expect(await store.getState('acme', 'crm', 'nope')).toBeUndefined();
    const listed = await store.listState('acme');
    expect(listed.map((s) => [s.source, s.stream, s.state])).toEqual([
      ['ads', 'spend', { day: '2024-05-01' }],
      ['crm', 'contacts', { cursor: 'contacts' }],
      ['crm', 'deals', { cursor: 'deals-2' }],
    ]);
    expect(listed[0].updated_at).toMatch(/^\d{4}-\d{2}-\d{2}T.*Z$/);
    expect(await store.resetState('acme', 'crm', 'deals')).toBe(1);
    expect(await store.resetState('acme', 'crm')).toBe(1);
    expect((await store.listState('acme')).map((s) => s.source)).toEqual(['ads']);
  });

  it('keeps a run ledger, newest first', async () => {
    const store = await fresh();
    await store.startRun({ run_id: 'r1', pipeline: 'acme' });
    await new Promise((r) => setTimeout(r, 5));
    await store.startRun({ run_id: 'r2', pipeline: 'acme' });
    await store.startRun({ run_id: 'r3', pipeline: 'other' });
    await store.finishRun({ run_id: 'r1', status: 'succeeded', rows: { 'crm/contacts': { records: 10, quarantined: 1 } } });
    await store.finishRun({ run_id: 'r2', status: 'failed', rows: {}, error: 'crm/contacts: boom' });
    const runs = await store.listRuns({ pipeline: 'acme' });
    expect(runs.map((r) => [r.run_id, r.status, r.error])).toEqual([
      ['r2', 'failed', 'crm/contacts: boom'],
      ['r1', 'succeeded', null],
    ]);
    expect(runs[1].rows).toEqual({ 'crm/contacts': { records: 10, quarantined: 1 } });
    expect(runs[1].started_at < runs[1].ended_at!).toBe(true);
    expect((await store.listRuns({ limit: 1 })).length).toBe(1);
    await expect(store.finishRun({ run_id: 'nope', status: 'failed', rows: {} })).rejects.toThrow(StoreError);
  });

  it('sweeps what a full refresh no longer saw', async () => {
    const store = await fresh();
    await store.writeBatch(batch([{ pk: 'a' }, { pk: 'b' }]));
    await store.writeBatch(batch([{ pk: 'b', v: 2 }], { runId: 'run-2' }));
    expect(await store.sweepStream('crm', 'contacts', 'run-2')).toBe(1);
    expect(await store.knex('raw_crm_contacts').pluck('_pk')).toEqual(['b']);
    expect(await store.knex('events').pluck('record_pk')).toEqual(['b']);
    expect(await store.knex('identifier_observations').distinct('record_pk').pluck('record_pk')).toEqual(['b']);
  });

  it('a failed first-load attempt leaves nothing behind for later transactions', async () => {
    const store = await fresh();
    await store.writeBatch(batch([{ pk: 'a' }]));
    // The fast attempt fails on the existing raw key, mid-appender; then force the collection of
    // that appender: DuckDB would flush anything it still held into whatever runs next.
    await store.writeBatch(batch([{ pk: 'a', v: 2 }], { runId: 'run-2' }));
    forceGc();
    await store.writeBatch(batch([{ pk: 'b' }], { runId: 'run-3', state: { cursor: 'b' } }));
    forceGc();
    await store.writeBatch(batch([{ pk: 'c' }], { runId: 'run-4', state: { cursor: 'c' } }));
    expect(await store.knex('raw_crm_contacts').orderBy('_pk').select('_pk', '_run_id')).toEqual([
      { _pk: 'a', _run_id: 'run-2' },
      { _pk: 'b', _run_id: 'run-3' },
      { _pk: 'c', _run_id: 'run-4' },
    ]);
    expect(await store.getState('acme', 'crm', 'contacts')).toEqual({ cursor: 'c' });
  });

  it('commits nothing when a statement failed inside the transaction, even if the error was swallowed', async () => {
    const store = await fresh();
    const run = { run_id: 'x', pipeline: 'p', started_at: new Date(), status: 'running', rows: '{}' };
    const attempt = store.knex.transaction(async (trx) => {
      await trx('runs').insert(run);
      // An execution error (DuckDB keeps a transaction open after mere parse or catalog errors).
      await trx('runs').insert(run).catch(() => undefined);
    });
    // DuckDB's COMMIT would roll back silently; our client refuses to report that as success.
    // pg's COMMIT of a failed transaction also rolls back, and knex resolves.
    if (engine.dialect === 'duckdb') await expect(attempt).rejects.toThrow(/aborted the transaction.*nothing was committed/);
    else await attempt.catch(() => undefined);
    expect(await store.knex('runs').count({ n: '*' })).toEqual([{ n: 0 }]);
  });
});
