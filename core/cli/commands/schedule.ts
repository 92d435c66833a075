// `touchpoint schedule [reports…]`: the long-running report scheduler. Every named report (default:
// every reports/*.yaml with a `schedule:`) fires at its cron occurrences in its time zone: refresh the
// pipeline, render, deliver through the ledger. Occurrences missed while it was down are caught up
// within catch_up_hours. `--once` fires what is due now and exits (for an external cron);
// `--workers pgboss` lets several processes on one PostgreSQL store share the work, one sender each.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadPipeline } from '../../config/pipeline.ts';
import { storeUrlFor } from '../../engine/run.ts';
import { ConfigError } from '../../errors.ts';
import { smtpSecrets, SMTP_URL_ENV } from '../../report/mail.ts';
import { findReport, loadReportSpec } from '../../report/spec.ts';
import { runScheduledReport, storeScheduleState, type JobOptions } from '../../schedule/job.ts';
import { PgBossWorker } from '../../schedule/pgboss.ts';
import { Scheduler, type Firing } from '../../schedule/scheduler.ts';
import { createLogger } from '../../sdk/log.ts';
import type { Command } from '../command.ts';
import { table } from '../render.ts';

/** Every reports/*.yaml under cwd that has a schedule. */
function scheduledReportFiles(cwd: string): string[] {
  const dir = join(cwd, 'reports');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join('reports', f));
}

export const schedule: Command = {
  name: 'schedule',
  summary: 'run scheduled reports at their cron times (refresh, render, email)',
  usage: 'schedule [reports…] [--once] [--catch-up-hours N] [--workers pgboss]',
  details: [
    'Runs until stopped (Ctrl-C, SIGTERM). Each occurrence refreshes the report\'s pipeline (schedule.refresh),',
    'renders the report and sends it; the deliveries ledger keeps any period from going out twice.',
    'Occurrences missed while the scheduler was down are sent late, up to catch_up_hours (see docs/delivery.md).',
    '',
    'Examples:',
    '  touchpoint schedule                      every report in reports/ with a schedule',
    '  touchpoint schedule cx roi --once        fire what is due now, then exit (cron, CI)',
    '  touchpoint schedule --workers pgboss     one of several workers on a PostgreSQL store',
  ].join('\n'),
  options: {
    once: { type: 'boolean', description: 'fire the occurrences due now (catch-up included) and exit' },
    'catch-up-hours': { type: 'string', value: 'N', description: 'override every report\'s schedule.catch_up_hours' },
    workers: { type: 'string', value: 'pgboss', description: 'coordinate several scheduler processes through pg-boss (PostgreSQL)' },
  },
  async run({ values, positionals }, output) {
    const cwd = process.cwd();
    const env = process.env;
    const catchUp = values['catch-up-hours'];
    const catchUpHours = catchUp === undefined ? undefined : Number(catchUp);
    if (catchUpHours !== undefined && !(Number.isFinite(catchUpHours) && catchUpHours >= 0)) {
      throw new ConfigError(`--catch-up-hours must be a number of hours ≥ 0 (got ${JSON.stringify(catchUp)})`);
    }
    const workers = values.workers as string | undefined;
    if (workers !== undefined && workers !== 'pgboss') throw new ConfigError(`unknown --workers "${workers}"`, { hint: 'the only coordinator is pgboss (PostgreSQL stores)' });
    if (workers && values.once) throw new ConfigError('--once and --workers do not go together', { hint: '--once fires what is due in this process; workers share a long-running queue' });

    const files = positionals.length > 0 ? positionals.map((p) => findReport(p, cwd)) : scheduledReportFiles(cwd);
    const specs = files.map((f) => loadReportSpec(f, { env, cwd }));
    const unscheduled = specs.filter((s) => !s.schedule);
    if (positionals.length > 0 && unscheduled.length > 0) {
      throw new ConfigError(`report ${unscheduled[0].name} has no schedule: section`, { where: unscheduled[0].file, hint: 'add schedule: { cron: "0 7 * * MON", timezone: Europe/Warsaw }' });
    }
    const reports = specs.filter((s) => s.schedule);
    if (reports.length === 0) throw new ConfigError('no report to schedule', { hint: 'give report names, or add a schedule: section to a report in reports/' });

    // Secrets to keep out of the log: the SMTP URL's, and each refreshed pipeline's.
    const secrets: string[] = env[SMTP_URL_ENV] ? smtpSecrets(env[SMTP_URL_ENV]!) : [];
    for (const spec of reports) {
      try {
        secrets.push(...loadPipeline(spec.pipeline, { env, cwd }).secrets);
      } catch (error) {
        if (spec.schedule!.refresh) throw error;
      }
    }
    output.secrets.push(...secrets);
    const log = createLogger({ secrets, level: values.verbose ? 'debug' : output.quiet ? 'warn' : 'info', format: output.json ? 'json' : 'text' });
    const job: JobOptions = { log, env, cwd };
    const state = storeScheduleState(reports, job);
    const runOne = async (firing: Firing): Promise<void> => {
      const result = await runScheduledReport(firing, job);
      // A failed delivery makes a pg-boss job retry; in-process it is logged and in the ledger.
      if (workers && result.status === 'failed') throw new Error(result.reason ?? 'delivery failed');
    };

    if (values.once) {
      const scheduler = new Scheduler({ reports, state, log, catchUpHours, fire: runOne });
      const fired = await scheduler.runDue();
      const rows = fired.map((f) => ({ report: f.spec.name, occurrence: f.occurrence.toISOString(), late: f.catchUp, error: f.error?.split('\n')[0] ?? '' }));
      if (output.json) output.data(rows);
      else output.out(rows.length > 0 ? table(rows) : 'nothing due');
      return fired.some((f) => f.error) ? 1 : 0;
    }

    let worker: PgBossWorker | undefined;
    if (workers) {
      const pipeline = loadPipeline(reports[0].pipeline, { env, cwd });
      worker = new PgBossWorker({ url: storeUrlFor(pipeline, env, cwd), reports, run: runOne, log });
      await worker.start();
    }
    const dispatcher = worker;
    const scheduler = new Scheduler({ reports, state, log, catchUpHours, fire: dispatcher ? async (f) => void (await dispatcher.dispatch(f)) : runOne });
    await scheduler.start();
    if (!output.json) {
      output.err(table(scheduler.nextOccurrences().map((n) => ({ report: n.report, next: n.next?.toISOString() ?? 'never' }))));
      output.err(`scheduler running${workers ? ' (pg-boss worker)' : ''}; Ctrl-C to stop`);
    }
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    output.err('stopping after the report in progress…');
    await scheduler.stop();
    await worker?.stop();
    return 0;
  },
};
