// Sends one rendered report to its recipients, once. In order: refuse recipients outside
// `allowed_domains` (nothing sent); skip recipients the ledger already marks `sent` for this period
// (unless resend); run the freshness gate — when a check fails the executives get nothing, the
// owner gets a notice naming the failed checks, and the ledger says `blocked`; otherwise send each
// recipient its own copy, retrying transient SMTP failures (4xx, connection drops) with exponential
// backoff, and write that recipient's ledger row as soon as its fate is known, so a failure half-way
// keeps what was already sent. Finally the sent HTML/PDF are kept in the archive folder.
// A crash between the server accepting a message and the ledger row being written can mean one
// duplicate on the next run: delivery is at-least-once per recipient, never silently lost.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Env } from '../config/env.ts';
import { redact } from '../config/secrets.ts';
import { newRunId } from '../engine/run.ts';
import { ConfigError, RunError } from '../errors.ts';
import { listDeliveries, recordDelivery } from '../schedule/ledger.ts';
import type { DeliveryStatus } from '../schedule/schema.ts';
import type { Logger } from '../sdk/types.ts';
import type { Store } from '../store/types.ts';
import { checkFreshness, readPipelineInfo, type FreshnessCheck, type PipelineInfo } from './freshness.ts';
import { createMailer, fromAddress, noticeMessage, renderSubject, reportFileStem, reportMessage, subjectContext, type Mailer } from './mail.ts';
import type { RenderedReport, ReportSpec } from './types.ts';

export interface RetryOptions {
  /** Tries per message, the first included (default 4). */
  attempts?: number;
  /** Wait before the second try; doubles each time (default 2000 ms). */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface DeliverOptions {
  store: Store;
  spec: ReportSpec;
  rendered: RenderedReport;
  /** Send again to recipients the ledger already marks `sent` for this period. */
  resend?: boolean;
  /** Send even when a freshness check fails (the checks still run and are reported). */
  force?: boolean;
  log: Logger;
  now?: Date;
  env?: Env;
  retry?: RetryOptions;
  /** The pipeline's name and sources (default: read from spec.pipeline). */
  pipeline?: PipelineInfo;
  /** Use this mailer instead of one from TOUCHPOINT_SMTP_URL (not closed here). */
  mailer?: Mailer;
  sleep?: (ms: number) => Promise<void>;
}

export interface RecipientResult {
  address: string;
  role: 'to' | 'cc' | 'bcc';
  status: DeliveryStatus;
  attempts: number;
  messageId?: string;
  error?: string;
}

export interface DeliveryResult {
  status: 'sent' | 'skipped' | 'blocked' | 'failed';
  recipients: RecipientResult[];
  /** The first message sent (the notice's when blocked). */
  messageId?: string;
  checks: FreshnessCheck[];
  reason?: string;
  /** The owner's notice when the gate blocked the report. */
  notice?: { to: string; messageId?: string; error?: string };
  /** Files kept in the archive folder. */
  archived?: string[];
}

const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 4, baseDelayMs: 2_000, maxDelayMs: 60_000 };

/** Every recipient with its role, each address once (the first role wins), compared case-insensitively. */
export function recipientsOf(spec: ReportSpec): { address: string; role: 'to' | 'cc' | 'bcc' }[] {
  const seen = new Set<string>();
  const out: { address: string; role: 'to' | 'cc' | 'bcc' }[] = [];
  const d = spec.delivery;
  if (!d) return out;
  for (const role of ['to', 'cc', 'bcc'] as const) {
    for (const address of d[role]) {
      const key = address.trim().toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ address: address.trim(), role });
    }
  }
  return out;
}

/** Throws (nothing sent) when a recipient or the owner is outside `allowed_domains`. */
export function checkAllowedDomains(spec: ReportSpec): void {
  const d = spec.delivery;
  if (!d || d.allowed_domains.length === 0) return;
  const allowed = d.allowed_domains.map((x) => x.toLowerCase());
  const addresses = [...recipientsOf(spec).map((r) => r.address), ...(d.owner ? [d.owner] : [])];
  const refused = addresses.filter((a) => {
    const domain = a.slice(a.lastIndexOf('@') + 1).toLowerCase();
    // A subdomain of an allowed domain is allowed (eu.example.com under example.com).
    return !allowed.some((ok) => domain === ok || domain.endsWith(`.${ok}`));
  });
  if (refused.length > 0) {
    throw new ConfigError(`delivery refused: ${refused.join(', ')} ${refused.length === 1 ? 'is' : 'are'} outside the allowed domains (${allowed.join(', ')}); nothing was sent`, {
      where: spec.file,
      hint: 'fix the address, or add its domain to delivery.allowed_domains if the report may really go there',
    });
  }
}

/** SMTP 4xx replies and dropped or refused connections may pass on a later try; 5xx and auth failures will not. */
export function isTransientMailError(error: unknown): boolean {
  const e = error as { responseCode?: number; code?: string };
  if (typeof e?.responseCode === 'number') return e.responseCode >= 400 && e.responseCode < 500;
  return ['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EPROTOCOL'].includes(String(e?.code));
}

/** A failure of the server or the connection, not of one recipient: the rest would fail the same way. */
function isConnectionError(error: unknown): boolean {
  const e = error as { responseCode?: number; code?: string };
  return e?.responseCode === undefined && ['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'EAUTH', 'ECONNRESET'].includes(String(e?.code));
}

function message(error: unknown): string {
  const e = error as { message?: string; response?: string };
  return String(e?.response ?? e?.message ?? error).split('\n')[0];
}

export function backoffMs(attempt: number, retry: Required<RetryOptions>): number {
  return Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
}

export async function deliverReport(options: DeliverOptions): Promise<DeliveryResult> {
  const { store, spec, rendered, log } = options;
  const env = options.env ?? process.env;
  const clock = (): Date => options.now ?? new Date();
  const now = clock();
  const period = rendered.period;
  const delivery = spec.delivery;
  if (!delivery) return { status: 'skipped', recipients: [], checks: [], reason: `report ${spec.name} has no delivery section` };
  const everyone = recipientsOf(spec);
  if (everyone.length === 0) return { status: 'skipped', recipients: [], checks: [], reason: `report ${spec.name} has no recipients` };
  checkAllowedDomains(spec);
  if (delivery.attach_pdf && !rendered.pdf) {
    throw new RunError(`report ${spec.name} was rendered without a PDF, but delivery.attach_pdf is true`, { hint: 'render with the pdf format (formats: [html, pdf]), or set attach_pdf: false' });
  }

  await store.migrate();
  const ledger = new Map((await listDeliveries(store.knex, spec.name, period.key)).map((r) => [r.recipient.toLowerCase(), r]));
  const alreadySent = everyone.filter((r) => ledger.get(r.address.toLowerCase())?.status === 'sent');
  const pending = options.resend ? everyone : everyone.filter((r) => !alreadySent.includes(r));
  const skipped: RecipientResult[] = everyone
    .filter((r) => !pending.includes(r))
    .map((r) => ({ ...r, status: 'skipped', attempts: 0, messageId: ledger.get(r.address.toLowerCase())?.message_id ?? undefined }));
  if (pending.length === 0) {
    log.info('report already sent for this period', { report: spec.name, period: period.key, recipients: everyone.length });
    return { status: 'skipped', recipients: skipped, checks: [], reason: `already sent to every recipient for ${period.key} (resend to send again)` };
  }

  const pipeline = options.pipeline ?? readPipelineInfo(spec.pipeline);
  const runId = await latestSucceededRun(store, pipeline.name);
  const deliveryId = newRunId(now);
  const checks = await checkFreshness({ store, spec, period, comparison: rendered.comparison, now, pipeline });
  const failedChecks = checks.filter((c) => !c.ok);
  const from = fromAddress(spec, env);
  const mailer = options.mailer ?? createMailer(env);
  const secrets = mailer.secrets;
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const subject = renderSubject(delivery.subject, subjectContext(rendered));
  const base = { report: spec.name, period: period.key, subject, run_id: runId, delivery_id: deliveryId };

  async function sendWithRetry(msg: Parameters<Mailer['send']>[0], to: string): Promise<{ messageId?: string; attempts: number; error?: unknown }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const info = await mailer.send(msg);
        if (info.rejected.length > 0 && info.accepted.length === 0) throw Object.assign(new Error(`the server rejected ${to}`), { responseCode: 550 });
        return { messageId: info.messageId, attempts: attempt };
      } catch (error) {
        const transient = isTransientMailError(error);
        if (!transient || attempt >= retry.attempts) return { attempts: attempt, error };
        const wait = backoffMs(attempt, retry);
        log.warn('mail not accepted, retrying', { report: spec.name, to, attempt, retry_in_ms: wait, error: redact(message(error), secrets) });
        await sleep(wait);
      }
    }
  }

  try {
    if (failedChecks.length > 0 && !options.force) {
      const reason = `freshness check failed: ${failedChecks.map((c) => `${c.check} (${c.detail})`).join('; ')}`;
      let notice: DeliveryResult['notice'];
      if (delivery.owner) {
        const sent = await sendWithRetry(noticeMessage(rendered, { from, owner: delivery.owner, checks, recipients: pending.map((r) => r.address) }), delivery.owner);
        notice = { to: delivery.owner, messageId: sent.messageId, error: sent.error ? redact(message(sent.error), secrets) : undefined };
      } else {
        log.error('report blocked by the freshness gate and no delivery.owner to tell', { report: spec.name, period: period.key });
      }
      const noticeText = notice ? (notice.error ? `; the notice to ${notice.to} failed: ${notice.error}` : `; notice sent to ${notice.to}`) : '; no delivery.owner to notify';
      const recipients: RecipientResult[] = [];
      for (const r of pending) {
        // A recipient who already has this period's report keeps its `sent` row (a blocked --resend).
        if (ledger.get(r.address.toLowerCase())?.status === 'sent') {
          recipients.push({ ...r, status: 'skipped', attempts: 0 });
          continue;
        }
        await recordDelivery(store.knex, { ...base, recipient: r.address, role: r.role, status: 'blocked', attempts: 0, error: redact(reason + noticeText, secrets), updated_at: now });
        recipients.push({ ...r, status: 'blocked', attempts: 0, error: reason });
      }
      log.warn('report blocked by the freshness gate', { report: spec.name, period: period.key, failed: failedChecks.map((c) => c.check).join(',') });
      return { status: 'blocked', recipients: [...skipped, ...recipients], messageId: notice?.messageId, checks, reason, notice };
    }
    if (failedChecks.length > 0) log.warn('freshness checks failed; sending anyway (forced)', { report: spec.name, failed: failedChecks.map((c) => c.check).join(',') });

    const results: RecipientResult[] = [];
    let fatal: string | undefined;
    for (const r of pending) {
      if (fatal) {
        await recordDelivery(store.knex, { ...base, recipient: r.address, role: r.role, status: 'failed', attempts: 0, error: fatal, updated_at: now });
        results.push({ ...r, status: 'failed', attempts: 0, error: fatal });
        continue;
      }
      const started = clock();
      const sent = await sendWithRetry(reportMessage(rendered, { from, recipient: r.address, subject }), r.address);
      if (sent.error === undefined) {
        await recordDelivery(store.knex, { ...base, recipient: r.address, role: r.role, status: 'sent', attempts: sent.attempts, message_id: sent.messageId, first_attempt_at: started, sent_at: clock(), updated_at: clock() });
        results.push({ ...r, status: 'sent', attempts: sent.attempts, messageId: sent.messageId });
        log.info('report sent', { report: spec.name, period: period.key, to: r.address, attempts: sent.attempts });
      } else {
        const error = redact(message(sent.error), secrets);
        await recordDelivery(store.knex, { ...base, recipient: r.address, role: r.role, status: 'failed', attempts: sent.attempts, error, first_attempt_at: started, updated_at: clock() });
        results.push({ ...r, status: 'failed', attempts: sent.attempts, error });
        log.error('report not sent', { report: spec.name, period: period.key, to: r.address, attempts: sent.attempts, error });
        if (isConnectionError(sent.error)) fatal = `not tried: the mail server failed for ${r.address} (${error})`;
      }
    }
    const sentCount = results.filter((r) => r.status === 'sent').length;
    const archived = sentCount > 0 ? archive(spec, rendered) : [];
    const failed = results.filter((r) => r.status === 'failed');
    return {
      status: failed.length === 0 ? 'sent' : 'failed',
      recipients: [...skipped, ...results],
      messageId: results.find((r) => r.messageId)?.messageId,
      checks,
      reason: failed.length > 0 ? `${failed.length} of ${results.length} recipient(s) failed: ${failed.map((f) => `${f.address}: ${f.error}`).join('; ')}` : undefined,
      archived,
    };
  } finally {
    if (!options.mailer) mailer.close();
  }
}

async function latestSucceededRun(store: Store, pipeline: string): Promise<string | null> {
  const row = await store.knex('runs').where({ pipeline, status: 'succeeded' }).orderBy('started_at', 'desc').first('run_id');
  return (row?.run_id as string | undefined) ?? null;
}

/** Keeps what was sent: `<archive>/<name>-<period>.html` and `.pdf`, relative to the report file. */
function archive(spec: ReportSpec, rendered: RenderedReport): string[] {
  if (!spec.delivery?.archive) return [];
  const dir = resolve(spec.dir, spec.delivery.archive);
  mkdirSync(dir, { recursive: true });
  const stem = join(dir, reportFileStem(spec, rendered.period));
  const files = [`${stem}.html`];
  writeFileSync(files[0], rendered.html);
  if (rendered.pdf) {
    files.push(`${stem}.pdf`);
    writeFileSync(files[1], rendered.pdf);
  }
  return files;
}
