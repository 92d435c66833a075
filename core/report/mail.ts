// Email for reports: the SMTP transport (nodemailer, from TOUCHPOINT_SMTP_URL), and the messages —
// the report itself (subject from the spec's Handlebars template, a plain-text part with the summary
// and headline numbers, the HTML inline and/or the PDF attached) and the failure notice the owner gets
// when the freshness gate stops a report. Building a message is pure; only `createMailer` touches the
// network. The SMTP URL carries a password: it is never logged, and every error text that leaves this
// file passes through `redact` with the URL's secret parts.
import Handlebars from 'handlebars';
import nodemailer from 'nodemailer';
import type { SendMailOptions, Transporter } from 'nodemailer';
import type { ResolvedPeriod } from '../analytics/period.ts';
import type { Env } from '../config/env.ts';
import { redact } from '../config/secrets.ts';
import { ConfigError } from '../errors.ts';
import type { FreshnessCheck } from './freshness.ts';
import type { RenderedReport, ReportSpec } from './types.ts';
import { kpiLines, periodLabel } from './view.ts';

export const SMTP_URL_ENV = 'TOUCHPOINT_SMTP_URL';
export const MAIL_FROM_ENV = 'TOUCHPOINT_MAIL_FROM';
const DEFAULT_FROM = 'touchpoint@localhost';

export interface Mailer {
  /** Sends one message; resolves with the server-assigned or generated Message-ID. */
  send(message: SendMailOptions): Promise<{ messageId: string; accepted: string[]; rejected: string[] }>;
  /** Secret parts of the SMTP URL, to redact from anything printed or stored. */
  secrets: string[];
  close(): void;
}

/** The password, the user:password pair and the whole URL (decoded and as written). */
export function smtpSecrets(url: string): string[] {
  const secrets = [url];
  try {
    const u = new URL(url);
    if (u.password) secrets.push(u.password, decodeURIComponent(u.password), `${u.username}:${u.password}`);
  } catch {
    // Not a URL: the whole string is all there is to hide.
  }
  return secrets;
}

export function createMailer(env: Env = process.env): Mailer {
  const url = env[SMTP_URL_ENV];
  if (!url) {
    throw new ConfigError(`${SMTP_URL_ENV} is not set: there is no mail server to send the report through`, {
      hint: `set ${SMTP_URL_ENV}=smtp://user:password@smtp.example.com:587 (smtps:// for implicit TLS on 465); see docs/delivery.md`,
    });
  }
  const secrets = smtpSecrets(url);
  let transport: Transporter;
  try {
    transport = nodemailer.createTransport(url);
  } catch (error) {
    throw new ConfigError(`${SMTP_URL_ENV} is not a usable SMTP URL: ${redact(String((error as Error).message ?? error), secrets)}`, {
      hint: 'write it as smtp://user:password@host:port',
    });
  }
  return {
    secrets,
    async send(message) {
      const info = await transport.sendMail(message);
      return { messageId: String(info.messageId ?? ''), accepted: (info.accepted ?? []).map(String), rejected: (info.rejected ?? []).map(String) };
    },
    close: () => transport.close(),
  };
}

export function fromAddress(spec: ReportSpec, env: Env = process.env): string {
  return spec.delivery?.from ?? env[MAIL_FROM_ENV] ?? DEFAULT_FROM;
}

/** `<name>-<period>` with the period as file-safe text: `all`, `2025-03-01_2025-03-31`. */
export function reportFileStem(spec: ReportSpec, period: ResolvedPeriod): string {
  const slug = period.startDate && period.endDate ? `${period.startDate}_${period.endDate}` : period.key;
  return `${spec.name}-${slug}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

export interface SubjectContext {
  report: { name: string; title: string; description?: string };
  /** label: the period for people (`March 2025`); name: as the spec wrote it (`last_month`). */
  period: { key: string; label: string; name: string; start: string | null; end: string | null; days: number | null };
  summary: string;
  kpis: Record<string, number | null>;
}

export function subjectContext(rendered: RenderedReport): SubjectContext {
  const { spec, period } = rendered;
  return {
    report: { name: spec.name, title: spec.title, description: spec.description },
    period: { key: period.key, label: periodLabel(period, spec.locale), name: period.label, start: period.startDate, end: period.endDate, days: period.days },
    summary: rendered.summary,
    kpis: rendered.kpis,
  };
}

// A private Handlebars: helpers registered for report templates must not change how subjects read.
const subjects = Handlebars.create();

/** The subject line: the template over { report, period, summary, kpis }, unescaped, on one line. */
export function renderSubject(template: string, context: SubjectContext): string {
  // A subject is plain text, not HTML: escaping would show `&amp;`. Newlines would let a summary
  // inject headers into the message, so they go.
  const text = subjects.compile(template, { noEscape: true })(context);
  return text.replace(/[\r\n]+/g, ' ').replace(/\s{2,}/g, ' ').trim();
}

/** The plain-text part: title, period, summary, headline numbers. */
export function textBody(rendered: RenderedReport): string {
  const { spec, period } = rendered;
  const dates = period.startDate ? ` (${period.startDate} – ${period.endDate})` : '';
  // As the report shows them: labels, money, rates and durations formatted, changes beside them.
  const versus = rendered.comparison ? ` vs ${periodLabel(rendered.comparison, spec.locale)}` : '';
  const kpis = kpiLines(rendered.kpis, spec.locale, spec.currency).map((k) => `  ${k.label}: ${k.display}${k.change ? ` (${k.change}${versus})` : ''}`);
  const lines = [`${spec.title} — ${periodLabel(period, spec.locale)}${dates}`, '', rendered.summary];
  if (kpis.length > 0) lines.push('', 'Key figures', ...kpis);
  if (spec.delivery?.attach_pdf && rendered.pdf) lines.push('', 'The full report is attached as a PDF.');
  return `${lines.join('\n')}\n`;
}

/**
 * The report for one recipient. Headers show the configured To and Cc (never Bcc); the envelope names
 * only this recipient, so each address gets its own copy and its own row in the ledger.
 */
export function reportMessage(rendered: RenderedReport, options: { from: string; recipient: string; subject: string }): SendMailOptions {
  const delivery = rendered.spec.delivery!;
  const message: SendMailOptions = {
    from: options.from,
    to: delivery.to.length > 0 ? delivery.to : undefined,
    cc: delivery.cc.length > 0 ? delivery.cc : undefined,
    envelope: { from: options.from, to: [options.recipient] },
    subject: options.subject,
    text: textBody(rendered),
    headers: { 'X-Touchpoint-Report': rendered.spec.name, 'X-Touchpoint-Period': rendered.period.key },
  };
  if (delivery.inline_html) message.html = rendered.html;
  if (delivery.attach_pdf && rendered.pdf) {
    message.attachments = [{ filename: `${reportFileStem(rendered.spec, rendered.period)}.pdf`, content: Buffer.from(rendered.pdf), contentType: 'application/pdf' }];
  }
  return message;
}

/** The notice the owner gets instead of the report when the freshness gate fails. */
export function noticeMessage(rendered: RenderedReport, options: { from: string; owner: string; checks: FreshnessCheck[]; recipients: string[] }): SendMailOptions {
  const { spec, period } = rendered;
  const failed = options.checks.filter((c) => !c.ok);
  const lines = [
    `The report "${spec.title}" (${spec.name}) for ${periodLabel(period, spec.locale)} (${period.key}) was NOT sent:`,
    `${failed.length} freshness check(s) failed.`,
    '',
    'Failed:',
    ...failed.map((c) => `  ✗ ${c.check}: ${c.detail}`),
  ];
  const passed = options.checks.filter((c) => c.ok);
  if (passed.length > 0) lines.push('', 'Passed:', ...passed.map((c) => `  ✓ ${c.check}: ${c.detail}`));
  lines.push(
    '',
    `Held back from: ${options.recipients.join(', ')}`,
    '',
    'Once the data is fixed (refresh the pipeline), run the report again: recipients get it then.',
    `  touchpoint report ${spec.file} --send`,
    '',
  );
  return {
    from: options.from,
    to: options.owner,
    envelope: { from: options.from, to: [options.owner] },
    subject: `[Touchpoint] not sent: ${spec.title} — ${periodLabel(period, spec.locale)} (freshness check failed: ${failed.map((c) => c.check).join(', ')})`.replace(/[\r\n]+/g, ' '),
    text: lines.join('\n'),
    headers: { 'X-Touchpoint-Report': spec.name, 'X-Touchpoint-Period': period.key, 'X-Touchpoint-Notice': 'freshness' },
  };
}
