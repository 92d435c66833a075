// Several scheduler processes on PostgreSQL (`touchpoint schedule --workers pgboss`): each runs the
// same Scheduler, but an occurrence that comes due is not run on the spot — it is sent to a pg-boss
// queue with singletonKey = report + occurrence, in a queue whose `exclusive` policy admits one
// queued-or-active job per key, so however many workers see the occurrence, one job exists and one
// worker runs it (refresh, render, deliver). pg-boss retries a job that throws, with backoff. If a
// late worker enqueues the same occurrence after the job finished, its job finds every recipient
// already `sent` in the deliveries ledger and sends nothing: the database, not a home-made lock,
// guarantees one email per recipient and period.
import { PgBoss } from 'pg-boss';
import type { Logger } from '../sdk/types.ts';
import type { ReportSpec } from '../report/types.ts';
import { parseStoreUrl } from '../store/url.ts';
import type { Firing } from './scheduler.ts';
import { ConfigError } from '../errors.ts';

export const DEFAULT_QUEUE = 'touchpoint-reports';
export const DEFAULT_BOSS_SCHEMA = 'touchpoint_boss';

export interface PgBossWorkerOptions {
  /** The store's postgres:// URL (its `?schema=` is ignored: pg-boss has a schema of its own). */
  url: string;
  /** pg-boss's schema (created on start). */
  schema?: string;
  queue?: string;
  reports: ReportSpec[];
  /** Runs one occurrence (job.ts runScheduledReport). Throwing makes pg-boss retry it. */
  run: (firing: Firing) => Promise<void>;
  log: Logger;
  /** Retries of a failed job (default 3), the first after retryDelaySeconds, then doubling. */
  retryLimit?: number;
  retryDelaySeconds?: number;
  /** How often an idle worker looks for jobs (default 2 s; ≥ 0.5). */
  pollingIntervalSeconds?: number;
}

interface JobData {
  report: string;
  occurrence: string;
  catchUp: boolean;
}

export function singletonKey(report: string, occurrence: Date): string {
  return `${report}@${occurrence.toISOString()}`;
}

export class PgBossWorker {
  readonly #options: PgBossWorkerOptions;
  readonly #boss: PgBoss;
  readonly #queue: string;
  readonly #reports: Map<string, ReportSpec>;

  constructor(options: PgBossWorkerOptions) {
    const parsed = parseStoreUrl(options.url);
    if (parsed.dialect !== 'postgres') {
      throw new ConfigError('--workers pgboss needs a PostgreSQL store', { hint: 'set TOUCHPOINT_DATABASE_URL (or the pipeline\'s store:) to a postgres:// URL, or run one scheduler without --workers' });
    }
    this.#options = options;
    this.#queue = options.queue ?? DEFAULT_QUEUE;
    this.#reports = new Map(options.reports.map((r) => [r.name, r]));
    // pg-boss's own cron is off: occurrences come from our Scheduler (time zones, catch-up).
    this.#boss = new PgBoss({ connectionString: parsed.connectionString, schema: options.schema ?? DEFAULT_BOSS_SCHEMA, schedule: false, application_name: 'touchpoint-scheduler' });
    this.#boss.on('error', (error: Error) => options.log.error('pg-boss error', { error: error.message }));
  }

  async start(): Promise<void> {
    const { log } = this.#options;
    await this.#boss.start();
    if (!(await this.#boss.getQueue(this.#queue))) {
      try {
        await this.#boss.createQueue(this.#queue, {
          policy: 'exclusive',
          retryLimit: this.#options.retryLimit ?? 3,
          retryDelay: this.#options.retryDelaySeconds ?? 60,
          retryBackoff: true,
        });
      } catch (error) {
        // Another worker created it first.
        if (!(await this.#boss.getQueue(this.#queue))) throw error;
      }
    }
    await this.#boss.work<JobData>(this.#queue, { batchSize: 1, pollingIntervalSeconds: this.#options.pollingIntervalSeconds ?? 2 }, async (jobs) => {
      for (const job of jobs) {
        const spec = this.#reports.get(job.data.report);
        if (!spec) throw new Error(`this worker does not know report "${job.data.report}": give every worker the same reports`);
        log.info('running queued occurrence', { report: spec.name, occurrence: job.data.occurrence, job: job.id });
        await this.#options.run({ spec, occurrence: new Date(job.data.occurrence), catchUp: job.data.catchUp });
      }
    });
  }

  /** Enqueues an occurrence; null when another worker already has (the singleton key is taken). */
  async dispatch(firing: Firing): Promise<string | null> {
    const data: JobData = { report: firing.spec.name, occurrence: firing.occurrence.toISOString(), catchUp: firing.catchUp };
    const id = await this.#boss.send(this.#queue, data, { singletonKey: singletonKey(firing.spec.name, firing.occurrence) });
    this.#options.log.debug(id ? 'occurrence queued' : 'occurrence already queued by another worker', { report: firing.spec.name, occurrence: data.occurrence });
    return id;
  }

  async stop(): Promise<void> {
    await this.#boss.stop({ graceful: true, timeout: 30_000 });
  }
}
