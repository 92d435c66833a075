// The long-running scheduler behind `touchpoint schedule`: every report with a `schedule:` fires at
// its cron occurrences, read in its IANA time zone (croner, which follows DST: a time that does not
// exist on the spring-forward day fires once, at the first valid minute after the gap; a time that
// happens twice on the fall-back day fires once, at its first instance). Each report remembers the
// last occurrence it fired (`schedule_state`); on start, and whenever a timer wakes, every occurrence
// since then — but no older than `catch_up_hours` — fires in order, so downtime is caught up and an
// occurrence never fires twice from one state. What an occurrence does is `fire` (refresh, render,
// deliver — job.ts — or enqueue it for a pool of workers, pgboss.ts); the deliveries ledger is the
// final guard against sending one period twice. The clock (now + timers) is injectable, so tests
// drive time across DST changes and downtime without waiting.
import { Cron } from 'croner';
import { ConfigError, toTouchpointError } from '../errors.ts';
import type { Logger } from '../sdk/types.ts';
import type { ReportSchedule, ReportSpec } from '../report/types.ts';

export interface Clock {
  now(): Date;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => new Date(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Where the last fired occurrence of each report is kept (schedule_state, or memory in tests). */
export interface ScheduleState {
  last(report: string): Promise<Date | null>;
  record(report: string, occurrence: Date): Promise<void>;
}

export interface Firing {
  spec: ReportSpec;
  /** The cron instant this firing is for. */
  occurrence: Date;
  /** Fired late, on start or after the process was busy or asleep. */
  catchUp: boolean;
  /** Set when firing threw (formatted, for --once's report). */
  error?: string;
}

export interface SchedulerOptions {
  reports: ReportSpec[];
  state: ScheduleState;
  fire: (firing: Firing) => Promise<void>;
  log: Logger;
  clock?: Clock;
  /** Overrides every report's schedule.catch_up_hours. */
  catchUpHours?: number;
}

const HOUR_MS = 3_600_000;
/** Lateness always tolerated, whatever catch_up_hours says: timers wake a little after their time. */
export const GRACE_MS = 5 * 60_000;
/** setTimeout's limit (2^31-1 ms, ~24.8 days): longer waits are taken in steps. */
const MAX_TIMER_MS = 2_147_483_647;
const MAX_CATCH_UP = 10_000;
/** Wait before trying again after a transient failure (a locked store, an unreachable server). */
export const RETRY_MS = 60_000;

export function cronOf(schedule: ReportSchedule, where?: string): Cron {
  try {
    return new Cron(schedule.cron, { timezone: schedule.timezone, paused: true });
  } catch (error) {
    throw new ConfigError(`schedule.cron "${schedule.cron}" (${schedule.timezone}) is not valid: ${(error as Error).message}`, {
      where,
      hint: 'five or six fields, e.g. "0 7 * * MON" (Mondays at 07:00) in an IANA time zone such as Europe/Warsaw',
    });
  }
}

/**
 * Occurrences due at `now`: after the last fired one, no older than the catch-up window (or the
 * grace period), and not after now; oldest first. With no last occurrence — the report was never
 * scheduled here — only the grace period counts: deploying a scheduler must not mail a backlog.
 */
export function dueOccurrences(cron: Cron, last: Date | null, now: Date, catchUpHours: number): Date[] {
  const window = last ? Math.max(catchUpHours * HOUR_MS, GRACE_MS) : GRACE_MS;
  const windowStart = new Date(now.getTime() - window);
  const from = last && last > windowStart ? last : windowStart;
  const due: Date[] = [];
  let cursor = from;
  while (due.length < MAX_CATCH_UP) {
    const next = cron.nextRun(cursor);
    if (!next || next > now) break;
    due.push(next);
    cursor = next;
  }
  return due;
}

export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #clock: Clock;
  readonly #crons = new Map<string, Cron>();
  readonly #timers = new Map<string, unknown>();
  readonly #chains = new Map<string, Promise<void>>();
  #stopped = false;
  #enqueued = 0;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    const names = new Set<string>();
    for (const spec of options.reports) {
      if (!spec.schedule) throw new ConfigError(`report ${spec.name} has no schedule: section`, { where: spec.file, hint: 'add schedule: { cron: "0 7 * * MON", timezone: Europe/Warsaw }' });
      if (names.has(spec.name)) throw new ConfigError(`two scheduled reports are named "${spec.name}"`, { where: spec.file, hint: 'report names key the delivery ledger: make them unique' });
      names.add(spec.name);
      this.#crons.set(spec.name, cronOf(spec.schedule, spec.file));
    }
  }

  /** The next occurrence of each report after now (for `touchpoint schedule` to print). */
  nextOccurrences(): { report: string; next: Date | null }[] {
    const now = this.#clock.now();
    return this.#options.reports.map((r) => ({ report: r.name, next: this.#crons.get(r.name)!.nextRun(now) }));
  }

  /** Fires whatever is due now (catch-up included) and keeps firing at each occurrence until stop(). */
  async start(): Promise<void> {
    this.#stopped = false;
    await Promise.all(this.#options.reports.map((spec) => this.#enqueue(spec, true)));
  }

  /** Fires whatever is due now (catch-up included) once, without arming timers (`--once`). */
  async runDue(): Promise<Firing[]> {
    const fired: Firing[] = [];
    await Promise.all(this.#options.reports.map(async (spec) => fired.push(...(await this.#fireDue(spec, true)).fired)));
    return fired;
  }

  /** Resolves when no firing is in progress (including any a finished firing queued). */
  async idle(): Promise<void> {
    for (;;) {
      const seen = this.#enqueued;
      await Promise.all(this.#chains.values());
      if (seen === this.#enqueued) return;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const handle of this.#timers.values()) this.#clock.clearTimer(handle);
    this.#timers.clear();
    await this.idle();
  }

  /** Serializes one report's work: a slow firing delays the next, never overlaps it. */
  #enqueue(spec: ReportSpec, arm: boolean): Promise<void> {
    const previous = this.#chains.get(spec.name) ?? Promise.resolve();
    this.#enqueued++;
    const next = previous.then(async () => {
      if (this.#stopped) return;
      let retry = false;
      try {
        retry = (await this.#fireDue(spec, false)).retry;
      } catch (error) {
        // The state store was unreachable, say: look again shortly.
        this.#options.log.error('scheduler could not check what is due', { report: spec.name, error: toTouchpointError(error).format() });
        retry = true;
      }
      if (arm && !this.#stopped) this.#arm(spec, retry ? RETRY_MS : undefined);
    });
    this.#chains.set(spec.name, next);
    return next;
  }

  async #fireDue(spec: ReportSpec, once: boolean): Promise<{ fired: Firing[]; retry: boolean }> {
    const { state, log } = this.#options;
    const cron = this.#crons.get(spec.name)!;
    const catchUpHours = this.#options.catchUpHours ?? spec.schedule!.catch_up_hours;
    const fired: Firing[] = [];
    for (;;) {
      const now = this.#clock.now();
      const last = await state.last(spec.name);
      const due = dueOccurrences(cron, last, now, catchUpHours);
      if (due.length === 0) break;
      for (const occurrence of due) {
        if (this.#stopped && !once) return { fired, retry: false };
        const firing: Firing = { spec, occurrence, catchUp: now.getTime() - occurrence.getTime() > GRACE_MS };
        log.info(firing.catchUp ? 'catching up a missed occurrence' : 'firing', { report: spec.name, occurrence: occurrence.toISOString() });
        try {
          await this.#options.fire(firing);
        } catch (error) {
          const err = toTouchpointError(error);
          firing.error = err.format();
          fired.push(firing);
          if (err.transient) {
            // A locked DuckDB file, an unreachable server: the occurrence stays due and is tried
            // again shortly (and by catch-up after that).
            log.warn('scheduled report failed, will retry', { report: spec.name, occurrence: occurrence.toISOString(), retry_in_s: RETRY_MS / 1000, error: firing.error });
            return { fired, retry: true };
          }
          // Anything else counts as fired all the same: the ledger says what was (not) sent, and
          // retrying the same occurrence forever would starve the next ones.
          log.error('scheduled report failed', { report: spec.name, occurrence: occurrence.toISOString(), error: firing.error });
          await state.record(spec.name, occurrence);
          continue;
        }
        await state.record(spec.name, occurrence);
        fired.push(firing);
      }
      // Firing took time: look again for occurrences that came due meanwhile.
    }
    return { fired, retry: false };
  }

  /** Wakes at the next occurrence, or sooner to retry (retryMs). */
  #arm(spec: ReportSpec, retryMs?: number): void {
    const now = this.#clock.now();
    const next = this.#crons.get(spec.name)!.nextRun(now);
    const untilNext = next ? next.getTime() - now.getTime() : Number.POSITIVE_INFINITY;
    const wait = Math.max(0, Math.min(untilNext, retryMs ?? Number.POSITIVE_INFINITY));
    if (!Number.isFinite(wait)) return;
    const wakeAt = now.getTime() + wait;
    const handle = this.#clock.setTimer(() => {
      this.#timers.delete(spec.name);
      if (this.#stopped) return;
      // A long wait taken in steps (or a timer that woke early) just re-arms.
      if (this.#clock.now().getTime() < wakeAt) this.#arm(spec, retryMs === undefined ? undefined : wakeAt - this.#clock.now().getTime());
      else void this.#enqueue(spec, true);
    }, Math.min(wait, MAX_TIMER_MS));
    this.#timers.set(spec.name, handle);
  }
}

/** In-memory ScheduleState (tests, and --once without a store). */
export function memoryState(initial: Record<string, Date> = {}): ScheduleState & { values: Map<string, Date> } {
  const values = new Map(Object.entries(initial));
  return {
    values,
    last: async (report) => values.get(report) ?? null,
    record: async (report, occurrence) => {
      const prev = values.get(report);
      if (!prev || occurrence > prev) values.set(report, occurrence);
    },
  };
}
