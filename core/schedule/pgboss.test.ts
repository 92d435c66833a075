// Two scheduler workers on one PostgreSQL store, coordinated by pg-boss (two PgBoss instances in
// this process, a pg-boss schema of the test's own): both see the same occurrence come due, both
// enqueue it, one job runs, each recipient gets one email and one ledger row. A worker that enqueues
// the occurrence again after the job finished sends nothing (the ledger).
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import type { DeliveryResult } from '../report/deliver.ts';
import { memoryLog, testProject, testRendered, testSpec } from '../report/deliver-fixtures.ts';
import { startFakeSmtp, type FakeSmtp } from '../report/fake-smtp/index.ts';
import { openStore } from '../store/index.ts';
import { createPgSchema, describeOnPostgres, pgTestUrl } from '../store/test-support.ts';
import type { Store } from '../store/types.ts';
import { runScheduledReport, type JobOptions } from './job.ts';
import { listDeliveries } from './ledger.ts';
import { PgBossWorker } from './pgboss.ts';
import { memoryState, Scheduler, type Clock } from './scheduler.ts';

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeOnPostgres('pg-boss workers', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.toReversed()) await c();
  });

  it('two workers, one occurrence: exactly one job, one email per recipient, one ledger row each', async () => {
    const schema = await createPgSchema('tp_boss');
    const bossSchema = `${schema.schema}_pgboss`;
    cleanup.push(async () => {
      await schema.drop();
      const client = new pg.Client({ connectionString: pgTestUrl() });
      await client.connect();
      await client.query(`drop schema if exists "${bossSchema}" cascade`);
      await client.end();
    });
    const smtp: FakeSmtp = await startFakeSmtp();
    cleanup.push(() => smtp.stop());
    const store: Store = await openStore({ url: schema.url });
    cleanup.push(() => store.close());
    await store.migrate();

    const spec = testSpec(testProject(), {
      name: 'weekly',
      schedule: { cron: '0 8 * * MON', timezone: 'Europe/Warsaw', catch_up_hours: 24, refresh: false },
      delivery: { cc: [], bcc: [] },
    });
    const log = memoryLog();
    const results: DeliveryResult[] = [];
    const job: JobOptions = {
      log,
      env: { TOUCHPOINT_SMTP_URL: smtp.url },
      retry: { attempts: 2, baseDelayMs: 10 },
      render: async ({ spec: s }) => testRendered(s),
      openStore: async () => {
        const s = await openStore({ url: schema.url });
        return { store: s, pipeline: null, close: () => s.close() };
      },
    };
    const workers = ['a', 'b'].map(
      (name) =>
        new PgBossWorker({
          url: schema.url,
          schema: bossSchema,
          reports: [spec],
          log: log.child({ worker: name }),
          pollingIntervalSeconds: 0.5,
          run: async (firing) => void results.push(await runScheduledReport(firing, job)),
        }),
    );
    for (const w of workers) {
      await w.start();
      cleanup.push(() => w.stop());
    }

    // Both workers' schedulers wake one minute after Monday 2025-03-31 08:00 Warsaw (06:00Z).
    const clock: Clock = { now: () => new Date('2025-03-31T06:01:00Z'), setTimer: () => 0, clearTimer: () => undefined };
    const ids: (string | null)[] = [];
    const schedulers = workers.map(
      (w) =>
        new Scheduler({
          reports: [spec],
          clock,
          log,
          // Each worker with a memory of its own: neither knows the other fired, only pg-boss does.
          state: memoryState(),
          fire: async (firing) => void ids.push(await w.dispatch(firing)),
        }),
    );
    const fired = await Promise.all(schedulers.map((s) => s.runDue()));
    expect(fired.flat().map((f) => f.occurrence.toISOString())).toContain('2025-03-31T06:00:00.000Z');
    expect(ids).toHaveLength(2);
    expect(ids.filter((id) => id !== null)).toHaveLength(1);

    await smtp.waitFor(2);
    await until(() => results.length >= 1);
    // Time for a second job, were there one.
    await new Promise((r) => setTimeout(r, 1500));
    expect(results.map((r) => r.status)).toEqual(['sent']);
    expect(smtp.messages.map((m) => m.to[0]).sort()).toEqual(['ceo@example.com', 'cmo@example.com']);
    const rows = await listDeliveries(store.knex, 'weekly');
    expect(rows.map((r) => [r.recipient, r.status, r.period])).toEqual([
      ['ceo@example.com', 'sent', '2025-03-01..2025-03-31'],
      ['cmo@example.com', 'sent', '2025-03-01..2025-03-31'],
    ]);

    // A straggler enqueues the same occurrence after the job finished: it runs, and sends nothing.
    const late = await workers[1].dispatch({ spec, occurrence: new Date('2025-03-31T06:00:00Z'), catchUp: true });
    if (late !== null) {
      await until(() => results.length >= 2);
      expect(results[1].status).toBe('skipped');
    }
    expect(smtp.messages).toHaveLength(2);
    expect(await listDeliveries(store.knex, 'weekly')).toHaveLength(2);
  }, 60_000);
});
