// The scheduler under a controlled clock: occurrences fire at the right UTC instants across DST
// changes (Europe/Warsaw: last Sundays of March and October; America/New_York: second Sunday of
// March, first Sunday of November), exactly once, and catch-up after downtime fires what was missed
// within catch_up_hours — and nothing older — in order. State is kept in a real store on both engines
// for the restart cases.
import { afterAll, describe, expect, it } from 'vitest';
import { StoreError } from '../errors.ts';
import { lastOccurrence, recordOccurrence } from './ledger.ts';
import { memoryLog, testProject, testSpec } from '../report/deliver-fixtures.ts';
import type { ReportSchedule, ReportSpec } from '../report/types.ts';
import { openStore } from '../store/index.ts';
import { describeEachEngine } from '../store/test-support.ts';
import type { Store } from '../store/types.ts';
import { cronOf, dueOccurrences, memoryState, Scheduler, type Clock, type Firing, type ScheduleState } from './scheduler.ts';

class FakeClock implements Clock {
  #t: number;
  #id = 0;
  timers: { id: number; at: number; fn: () => void }[] = [];
  constructor(start: string) {
    this.#t = Date.parse(start);
  }
  now(): Date {
    return new Date(this.#t);
  }
  setTimer(fn: () => void, ms: number): unknown {
    const id = ++this.#id;
    this.timers.push({ id, at: this.#t + ms, fn });
    return id;
  }
  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  /** Jumps the clock without running timers (the process was down or asleep). */
  jump(to: string): void {
    this.#t = Date.parse(to);
  }
  /** Runs every timer due up to `to`, in order, letting the scheduler finish each firing. */
  async advanceTo(to: string, scheduler: Scheduler): Promise<void> {
    const end = Date.parse(to);
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.#t = Math.max(this.#t, due.at);
      due.fn();
      await scheduler.idle();
    }
    this.#t = end;
  }
}

const project = testProject();
function scheduled(name: string, schedule: Partial<ReportSchedule> & { cron: string }): ReportSpec {
  return testSpec(project, { name, schedule: { timezone: 'UTC', catch_up_hours: 24, refresh: false, ...schedule } });
}

function harness(reports: ReportSpec[], start: string, state: ScheduleState = memoryState(), catchUpHours?: number) {
  const clock = new FakeClock(start);
  const fired: (Firing & { at: string })[] = [];
  const scheduler = new Scheduler({
    reports,
    state,
    clock,
    log: memoryLog(),
    catchUpHours,
    fire: async (f) => void fired.push({ ...f, at: clock.now().toISOString() }),
  });
  const instants = (report?: string): string[] => fired.filter((f) => !report || f.spec.name === report).map((f) => f.occurrence.toISOString());
  return { clock, fired, scheduler, instants, state };
}

describe('scheduler across DST changes', () => {
  it('Europe/Warsaw, last Sunday of March: 08:00 daily moves from 07:00Z to 06:00Z; 02:30 (skipped hour) fires once at 03:00 CEST', async () => {
    const daily = scheduled('daily', { cron: '0 8 * * *', timezone: 'Europe/Warsaw' });
    const gap = scheduled('gap', { cron: '30 2 * * *', timezone: 'Europe/Warsaw' });
    const h = harness([daily, gap], '2025-03-28T12:00:00Z', memoryState({ daily: new Date('2025-03-28T07:00:00Z'), gap: new Date('2025-03-28T01:30:00Z') }));
    await h.scheduler.start();
    expect(h.fired).toEqual([]);
    await h.clock.advanceTo('2025-04-01T12:00:00Z', h.scheduler);
    expect(h.instants('daily')).toEqual(['2025-03-29T07:00:00.000Z', '2025-03-30T06:00:00.000Z', '2025-03-31T06:00:00.000Z', '2025-04-01T06:00:00.000Z']);
    expect(h.instants('gap')).toEqual(['2025-03-29T01:30:00.000Z', '2025-03-30T01:00:00.000Z', '2025-03-31T00:30:00.000Z', '2025-04-01T00:30:00.000Z']);
    // Each fired when the clock reached it, not late.
    expect(h.fired.every((f) => f.at === f.occurrence.toISOString() && !f.catchUp)).toBe(true);
    await h.scheduler.stop();
  });

  it('Europe/Warsaw, last Sunday of October: 02:30 (a repeated hour) fires once; hourly fires every real hour once', async () => {
    const repeated = scheduled('repeated', { cron: '30 2 * * *', timezone: 'Europe/Warsaw' });
    const hourly = scheduled('hourly', { cron: '0 * * * *', timezone: 'Europe/Warsaw' });
    const h = harness([repeated, hourly], '2025-10-25T22:10:00Z', memoryState({ repeated: new Date('2025-10-25T00:30:00Z'), hourly: new Date('2025-10-25T22:00:00Z') }));
    await h.scheduler.start();
    await h.clock.advanceTo('2025-10-27T02:00:00Z', h.scheduler);
    expect(h.instants('repeated')).toEqual(['2025-10-26T00:30:00.000Z', '2025-10-27T01:30:00.000Z']);
    const hours = h.instants('hourly');
    // 22:00Z on the 25th to 02:00Z on the 27th: 28 real hours, the repeated 02:00 local among them.
    expect(hours).toHaveLength(28);
    expect(new Set(hours).size).toBe(28);
    expect(hours.slice(0, 5)).toEqual(['2025-10-25T23:00:00.000Z', '2025-10-26T00:00:00.000Z', '2025-10-26T01:00:00.000Z', '2025-10-26T02:00:00.000Z', '2025-10-26T03:00:00.000Z']);
    await h.scheduler.stop();
  });

  it('America/New_York: second Sunday of March and first Sunday of November', async () => {
    const morning = scheduled('morning', { cron: '0 7 * * *', timezone: 'America/New_York' });
    const gap = scheduled('gap', { cron: '30 2 * * *', timezone: 'America/New_York' });
    const repeated = scheduled('repeated', { cron: '30 1 * * *', timezone: 'America/New_York' });
    const start = { morning: new Date('2025-03-07T12:00:00Z'), gap: new Date('2025-03-07T07:30:00Z'), repeated: new Date('2025-03-07T06:30:00Z') };
    const h = harness([morning, gap, repeated], '2025-03-07T13:00:00Z', memoryState(start));
    await h.scheduler.start();
    await h.clock.advanceTo('2025-03-10T13:00:00Z', h.scheduler);
    expect(h.instants('morning')).toEqual(['2025-03-08T12:00:00.000Z', '2025-03-09T11:00:00.000Z', '2025-03-10T11:00:00.000Z']);
    expect(h.instants('gap')).toEqual(['2025-03-08T07:30:00.000Z', '2025-03-09T07:00:00.000Z', '2025-03-10T06:30:00.000Z']);
    await h.scheduler.stop();

    const fall = harness([repeated], '2025-11-01T12:00:00Z', memoryState({ repeated: new Date('2025-11-01T05:30:00Z') }));
    await fall.scheduler.start();
    await fall.clock.advanceTo('2025-11-04T12:00:00Z', fall.scheduler);
    expect(fall.instants()).toEqual(['2025-11-02T05:30:00.000Z', '2025-11-03T06:30:00.000Z', '2025-11-04T06:30:00.000Z']);
    await fall.scheduler.stop();
  });

  it('waits longer than a timer can in steps (monthly report)', async () => {
    const monthly = scheduled('monthly', { cron: '0 7 2 * *', timezone: 'Europe/Berlin' });
    const h = harness([monthly], '2025-01-02T06:30:00Z', memoryState({ monthly: new Date('2024-12-02T06:00:00Z') }));
    await h.scheduler.start();
    await h.clock.advanceTo('2025-04-03T00:00:00Z', h.scheduler);
    expect(h.instants()).toEqual(['2025-01-02T06:00:00.000Z', '2025-02-02T06:00:00.000Z', '2025-03-02T06:00:00.000Z', '2025-04-02T05:00:00.000Z']);
    await h.scheduler.stop();
  });
});

describe('catch-up after downtime', () => {
  it('fires missed occurrences within catch_up_hours, oldest first, then carries on', async () => {
    const daily = scheduled('daily', { cron: '0 8 * * *', timezone: 'Europe/Warsaw', catch_up_hours: 50 });
    const state = memoryState();
    const first = harness([daily], '2025-03-27T06:00:00Z', state);
    // First start with no state: nothing older than the window fires (the 27th 08:00 CET is 07:00Z, still ahead).
    await first.scheduler.start();
    await first.clock.advanceTo('2025-03-27T12:00:00Z', first.scheduler);
    expect(first.instants()).toEqual(['2025-03-27T07:00:00.000Z']);
    await first.scheduler.stop();

    // Down from the 27th until the 31st 10:00Z: the 28th, 29th, 30th and 31st were missed; only
    // those within 50 h (30th 06:00Z, 31st 06:00Z) are caught up.
    const second = harness([daily], '2025-03-31T10:00:00Z', state);
    await second.scheduler.start();
    expect(second.fired.map((f) => [f.occurrence.toISOString(), f.catchUp])).toEqual([
      ['2025-03-30T06:00:00.000Z', true],
      ['2025-03-31T06:00:00.000Z', true],
    ]);
    // A restart right after fires nothing again.
    await second.scheduler.stop();
    const third = harness([daily], '2025-03-31T10:05:00Z', state);
    await third.scheduler.start();
    expect(third.fired).toEqual([]);
    await third.clock.advanceTo('2025-04-01T06:00:00Z', third.scheduler);
    expect(third.instants()).toEqual(['2025-04-01T06:00:00.000Z']);
    await third.scheduler.stop();
  });

  it('catch_up_hours 0 never fires late, except within the grace period', () => {
    const cron = cronOf({ cron: '0 8 * * *', timezone: 'UTC', catch_up_hours: 0, refresh: false });
    expect(dueOccurrences(cron, new Date('2025-03-01T08:00:00Z'), new Date('2025-03-03T09:00:00Z'), 0)).toEqual([]);
    expect(dueOccurrences(cron, new Date('2025-03-01T08:00:00Z'), new Date('2025-03-03T08:04:00Z'), 0)).toEqual([new Date('2025-03-03T08:00:00Z')]);
  });

  it('--catch-up-hours overrides the report and runDue fires once without timers', async () => {
    const daily = scheduled('daily', { cron: '0 8 * * *', catch_up_hours: 1 });
    const h = harness([daily], '2025-03-05T09:00:00Z', memoryState({ daily: new Date('2025-03-01T08:00:00Z') }), 72);
    const fired = await h.scheduler.runDue();
    expect(fired.map((f) => f.occurrence.toISOString())).toEqual(['2025-03-03T08:00:00.000Z', '2025-03-04T08:00:00.000Z', '2025-03-05T08:00:00.000Z']);
    expect(h.clock.timers).toEqual([]);
    expect(await h.scheduler.runDue()).toEqual([]);
  });

  it('a firing that throws is logged and not retried forever', async () => {
    const daily = scheduled('daily', { cron: '0 8 * * *' });
    const log = memoryLog();
    const clock = new FakeClock('2025-03-05T07:00:00Z');
    let calls = 0;
    const scheduler = new Scheduler({ reports: [daily], state: memoryState(), clock, log, fire: async () => {
        calls++;
        throw new Error('render failed');
      },
    });
    await scheduler.start();
    await clock.advanceTo('2025-03-06T09:00:00Z', scheduler);
    expect(calls).toBe(2);
    expect(log.lines.filter((l) => l.startsWith('error scheduled report failed'))).toHaveLength(2);
    await scheduler.stop();
  });
});

describe('transient failures', () => {
  it('a locked store or unreachable server is retried a minute later, and the occurrence fires once', async () => {
    const daily = scheduled('daily', { cron: '0 8 * * *' });
    const clock = new FakeClock('2025-03-05T07:00:00Z');
    const state = memoryState();
    const attempts: string[] = [];
    const scheduler = new Scheduler({
      reports: [daily],
      state,
      clock,
      log: memoryLog(),
      fire: async (f) => {
        attempts.push(`${clock.now().toISOString()} ${f.occurrence.toISOString()}`);
        if (attempts.length <= 2) throw new StoreError('DuckDB file x.duckdb is locked by another process', { transient: true });
      },
    });
    await scheduler.start();
    await clock.advanceTo('2025-03-05T09:00:00Z', scheduler);
    expect(attempts).toEqual([
      '2025-03-05T08:00:00.000Z 2025-03-05T08:00:00.000Z',
      '2025-03-05T08:01:00.000Z 2025-03-05T08:00:00.000Z',
      '2025-03-05T08:02:00.000Z 2025-03-05T08:00:00.000Z',
    ]);
    expect(state.values.get('daily')).toEqual(new Date('2025-03-05T08:00:00Z'));
    await clock.advanceTo('2025-03-06T09:00:00Z', scheduler);
    expect(attempts).toHaveLength(4);
    await scheduler.stop();
  });
});

describeEachEngine('schedule_state', (engine) => {
  const stores: Store[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
  });
  it('keeps the last occurrence per report and never moves it backwards', async () => {
    const store = await openStore({ url: await engine.freshUrl() });
    stores.push(store);
    await store.migrate();
    expect(await lastOccurrence(store.knex, 'daily')).toBeNull();
    const now = new Date('2025-03-31T10:00:00Z');
    await recordOccurrence(store.knex, 'daily', new Date('2025-03-30T06:00:00Z'), now);
    await recordOccurrence(store.knex, 'daily', new Date('2025-03-31T06:00:00Z'), now);
    await recordOccurrence(store.knex, 'daily', new Date('2025-03-29T07:00:00Z'), now);
    expect(await lastOccurrence(store.knex, 'daily')).toEqual(new Date('2025-03-31T06:00:00Z'));
  });
});
