// The deliveries table (migration 5) on both engines: one row per (report, period, recipient),
// enforced by the database; upserts replace a recipient's row; the last send time; and the
// store-backed scheduler state.
import { afterAll, expect, it } from 'vitest';
import { testProject, testSpec } from '../report/deliver-fixtures.ts';
import { openStore } from '../store/index.ts';
import { describeEachEngine } from '../store/test-support.ts';
import type { Store } from '../store/types.ts';
import { storeScheduleState } from './job.ts';
import { lastSentAt, listDeliveries, recordDelivery } from './ledger.ts';

describeEachEngine('deliveries ledger', (engine) => {
  const stores: Store[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
  });
  async function fresh(): Promise<{ store: Store; url: string }> {
    const url = await engine.freshUrl();
    const store = await openStore({ url });
    stores.push(store);
    await store.migrate();
    return { store, url };
  }
  const at = new Date('2025-04-02T06:00:00Z');
  const row = { report: 'cx', period: '2025-03-01..2025-03-31', recipient: 'ceo@example.com', role: 'to', delivery_id: 'd1', updated_at: at };

  it('keeps one row per report, period and recipient; the key is enforced by the database', async () => {
    const { store } = await fresh();
    await recordDelivery(store.knex, { ...row, status: 'failed', attempts: 4, error: '451 try again later' });
    await recordDelivery(store.knex, { ...row, status: 'sent', attempts: 1, message_id: '<m1@example.com>', sent_at: at, delivery_id: 'd2' });
    await recordDelivery(store.knex, { ...row, recipient: 'cmo@example.com', status: 'blocked', attempts: 0 });
    const rows = await listDeliveries(store.knex, 'cx');
    expect(rows).toEqual([
      { ...row, role: 'to', status: 'sent', attempts: 1, message_id: '<m1@example.com>', error: null, subject: null, run_id: null, delivery_id: 'd2', first_attempt_at: null, sent_at: at.toISOString(), updated_at: at.toISOString() },
      { ...row, recipient: 'cmo@example.com', status: 'blocked', attempts: 0, message_id: null, error: null, subject: null, run_id: null, delivery_id: 'd1', first_attempt_at: null, sent_at: null, updated_at: at.toISOString() },
    ]);
    await expect(store.knex('deliveries').insert({ ...row, status: 'sent', attempts: 1 })).rejects.toThrow();
    expect(await lastSentAt(store.knex, 'cx')).toEqual(at);
    expect(await lastSentAt(store.knex, 'roi')).toBeNull();
    expect(await listDeliveries(store.knex, 'cx', '2025-02-01..2025-02-28')).toEqual([]);
  });

  it('stores the scheduler state in the report\'s store', async () => {
    const { url } = await fresh();
    const spec = testSpec(testProject(), { name: 'cx' });
    const state = storeScheduleState([spec], {
      openStore: async () => {
        const store = await openStore({ url });
        return { store, pipeline: null, close: () => store.close() };
      },
    });
    expect(await state.last('cx')).toBeNull();
    await state.record('cx', at);
    expect(await state.last('cx')).toEqual(at);
  });
});
