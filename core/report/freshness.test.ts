// The freshness gate's checks against real stores: source refresh times from the run ledger, row
// counts per day against the comparison period, failed runs since the last send.
import { afterAll, expect, it } from 'vitest';
import { recordDelivery } from '../schedule/ledger.ts';
import { openStore } from '../store/index.ts';
import { describeEachEngine } from '../store/test-support.ts';
import type { Store } from '../store/types.ts';
import { insertRun, testProject, testRendered, testSpec } from './deliver-fixtures.ts';
import { checkFreshness, readPipelineInfo } from './freshness.ts';

const NOW = new Date('2025-04-02T06:00:00Z');

async function seed(store: Store, month: string, days: number, perDay: number): Promise<void> {
  const events = [];
  const journeys = [];
  const spend = [];
  for (let d = 1; d <= days; d++) {
    const date = `${month}-${String(d).padStart(2, '0')}`;
    for (let i = 0; i < perDay; i++) {
      const id = `${date}-${i}`;
      events.push({ event_id: id, source: 'crm', stream: 'records', record_pk: id, occurred_at: new Date(`${date}T12:00:00Z`), kind: 'touch', name: 'page_view' });
      journeys.push({ journey_id: id, person_id: `p${i}`, status: 'open', journey_number: 1, started_at: new Date(`${date}T10:00:00Z`), ended_at: new Date(`${date}T12:00:00Z`), touch_count: 1, session_count: 1 });
    }
    spend.push({ spend_id: date, source: 'ads', stream: 'spend', record_pk: date, date, cost: 10 });
  }
  await store.knex.batchInsert('events', events, 500);
  await store.knex.batchInsert('journeys', journeys, 500);
  await store.knex.batchInsert('spend', spend, 500);
}

describeEachEngine('checkFreshness', (engine) => {
  const stores: Store[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
  });
  async function fresh(): Promise<Store> {
    const store = await openStore({ url: await engine.freshUrl() });
    stores.push(store);
    await store.migrate();
    return store;
  }
  const project = testProject();

  it('reads the pipeline name and enabled sources without resolving secrets', () => {
    expect(readPipelineInfo(project.pipeline)).toEqual({ name: 'acme', sources: ['crm', 'ads'] });
  });

  it('compares rows per day with the comparison period', async () => {
    const store = await fresh();
    // February: 28 days × 4 rows; March: 31 days but only the first 10 loaded (a half-loaded month).
    await seed(store, '2025-02', 28, 4);
    await seed(store, '2025-03', 10, 4);
    const spec = testSpec(project, { checks: { min_row_ratio: 0.5 } });
    const rendered = testRendered(spec);
    const checks = await checkFreshness({ store, spec, period: rendered.period, comparison: rendered.comparison, now: NOW });
    expect(checks.map((c) => [c.check, c.ok])).toEqual([
      ['row_ratio:events', false],
      ['row_ratio:journeys', false],
      ['row_ratio:spend', false],
    ]);
    expect(checks[0].detail).toBe('events: 40 row(s) in 2025-03-01..2025-03-31 vs 112 in 2025-02-01..2025-02-28: 0.32 of the comparison\'s rows per day (minimum 0.5)');
    // Fully loaded, March has as many rows per day as February: a longer month is not "up" or "down".
    const full = await fresh();
    await seed(full, '2025-02', 28, 4);
    await seed(full, '2025-03', 31, 4);
    const ok = await checkFreshness({ store: full, spec, period: rendered.period, comparison: rendered.comparison, now: NOW });
    expect(ok.every((c) => c.ok)).toBe(true);
    expect(ok[2].detail).toContain('1.00 of the comparison');
    // No comparison period: nothing to compare.
    const none = await checkFreshness({ store: full, spec, period: rendered.period, comparison: null, now: NOW });
    expect(none).toEqual([{ check: 'row_ratio', ok: true, detail: 'period 2025-03 has no comparison period: nothing to compare row counts with' }]);
  });

  it('checks each source (`*` and named limits), and failed runs since the last send', async () => {
    const store = await fresh();
    const spec = testSpec(project, { checks: { sources_refreshed_within_hours: { '*': 24, ads: 48 }, no_failed_runs_since_last_send: true } });
    const rendered = testRendered(spec);
    const check = () => checkFreshness({ store, spec, period: rendered.period, comparison: rendered.comparison, now: NOW });
    let checks = await check();
    expect(checks.map((c) => [c.check, c.ok])).toEqual([
      ['source_refreshed:crm', false],
      ['source_refreshed:ads', false],
      ['no_failed_runs', true],
    ]);
    expect(checks[0].detail).toBe('crm: no successful extraction in the run ledger (limit 24 h)');
    await insertRun(store.knex, { run_id: 'r1', status: 'succeeded', started_at: '2025-04-01T12:00:00Z', ended_at: '2025-04-01T12:30:00Z' });
    checks = await check();
    // 17.5 h ago: within 24 for crm, within 48 for ads.
    expect(checks.map((c) => c.ok)).toEqual([true, true, true]);
    await insertRun(store.knex, { run_id: 'r2', status: 'failed', started_at: '2025-04-01T13:00:00Z' });
    checks = await check();
    expect(checks[2]).toEqual({ check: 'no_failed_runs', ok: false, detail: 'run r2 of acme failed at 2025-04-01T13:00:00.000Z in the run ledger (the report was never sent) and no run has succeeded since' });
    // Once the report was sent after that failure, it no longer counts.
    await recordDelivery(store.knex, { report: 'monthly', period: 'x', recipient: 'a@example.com', role: 'to', status: 'sent', attempts: 1, delivery_id: 'd', sent_at: new Date('2025-04-01T14:00:00Z'), updated_at: NOW });
    expect((await check())[2].ok).toBe(true);
    // An unknown source name is a failed check, not a silent pass.
    const typo = testSpec(project, { checks: { sources_refreshed_within_hours: { crn: 24 } } });
    expect(await checkFreshness({ store, spec: typo, period: rendered.period, comparison: null, now: NOW })).toEqual([
      { check: 'source_refreshed:crn', ok: false, detail: 'pipeline acme has no enabled source named "crn"' },
    ]);
  });
});
