// Delivery against a real SMTP server process (fake-smtp/server.ts) and a real store on both engines:
// what arrives (subject, text, inline HTML, the PDF byte for byte), the ledger's idempotency,
// retries on 451, a failure half-way, the freshness gate and allowed domains.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { listDeliveries } from '../schedule/ledger.ts';
import { openStore } from '../store/index.ts';
import { describeEachEngine } from '../store/test-support.ts';
import type { Store } from '../store/types.ts';
import { deliverReport } from './deliver.ts';
import { insertRun, memoryLog, testProject, testRendered, testSpec } from './deliver-fixtures.ts';
import { decodeHeader, leaves, readMessage, startFakeSmtp, type FakeSmtp } from './fake-smtp/index.ts';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const NOW = new Date('2025-04-02T06:00:00Z');
const fast = { attempts: 4, baseDelayMs: 5, maxDelayMs: 50 };

describeEachEngine('deliverReport', (engine) => {
  const servers: FakeSmtp[] = [];
  const stores: Store[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
  });
  afterAll(async () => {
    for (const s of stores.splice(0)) await s.close();
  });
  async function setup(smtpOptions: Parameters<typeof startFakeSmtp>[0] = {}) {
    const smtp = await startFakeSmtp(smtpOptions);
    servers.push(smtp);
    const store = await openStore({ url: await engine.freshUrl() });
    stores.push(store);
    await store.migrate();
    const project = testProject();
    return { smtp, store, project, env: { TOUCHPOINT_SMTP_URL: smtp.url } };
  }

  it('mails each recipient its copy: subject, text, inline HTML, the PDF byte-identical; ledger and archive', async () => {
    const auth = { user: 'mailer', pass: 's3cret-smtp-pass' };
    const { smtp, store, project, env } = await setup({ auth });
    const spec = testSpec(project);
    const rendered = testRendered(spec);
    const log = memoryLog();
    const result = await deliverReport({ store, spec, rendered, log, now: NOW, env, retry: fast });
    expect(result.status).toBe('sent');
    expect(result.recipients.map((r) => [r.address, r.role, r.status])).toEqual([
      ['ceo@example.com', 'to', 'sent'],
      ['cmo@example.com', 'to', 'sent'],
      ['cx@example.com', 'cc', 'sent'],
      ['audit@example.com', 'bcc', 'sent'],
    ]);
    const received = await smtp.waitFor(4);
    expect(received.map((m) => m.to)).toEqual([['ceo@example.com'], ['cmo@example.com'], ['cx@example.com'], ['audit@example.com']]);
    expect(received.every((m) => m.from === 'reports@example.com')).toBe(true);

    const mail = readMessage(received[0].file);
    // Newlines of the subject template (and of the summary) are gone; the title is not HTML-escaped.
    expect(decodeHeader(mail.headers.subject)).toBe('Monthly & <CX> — March 2025 Revenue rose 12% to €48,200; 310 conversions.');
    expect(mail.headers.to).toBe('ceo@example.com, cmo@example.com');
    expect(mail.headers.cc).toBe('cx@example.com');
    expect(mail.headers.bcc).toBeUndefined();
    expect(mail.headers['x-touchpoint-period']).toBe('2025-03-01..2025-03-31');
    const parts = leaves(mail);
    const text = parts.find((p) => p.headers['content-type'].startsWith('text/plain'))!.body.toString('utf8');
    expect(text).toContain('Revenue rose 12% to €48,200');
    expect(text).toContain('Revenue: €48,200');
    expect(text).toContain('Conversion rate: 4.2%');
    const html = parts.find((p) => p.headers['content-type'].startsWith('text/html'))!.body.toString('utf8');
    expect(html).toBe(rendered.html);
    const pdf = parts.find((p) => p.headers['content-type'].startsWith('application/pdf'))!;
    expect(pdf.headers['content-disposition']).toContain('monthly-2025-03-01_2025-03-31.pdf');
    expect(sha256(pdf.body)).toBe(sha256(rendered.pdf!));

    const rows = await listDeliveries(store.knex, 'monthly', '2025-03-01..2025-03-31');
    expect(rows.map((r) => [r.recipient, r.status, r.attempts])).toEqual([
      ['audit@example.com', 'sent', 1],
      ['ceo@example.com', 'sent', 1],
      ['cmo@example.com', 'sent', 1],
      ['cx@example.com', 'sent', 1],
    ]);
    expect(rows.every((r) => r.message_id && r.sent_at === NOW.toISOString())).toBe(true);
    expect(result.archived).toEqual([join(project.dir, 'archive', 'monthly-2025-03-01_2025-03-31.html'), join(project.dir, 'archive', 'monthly-2025-03-01_2025-03-31.pdf')]);
    expect(sha256(readFileSync(result.archived![1]))).toBe(sha256(rendered.pdf!));
    // The SMTP password appears nowhere we write.
    expect(JSON.stringify(rows) + log.lines.join('\n') + JSON.stringify(result)).not.toContain(auth.pass);
  });

  it('is idempotent per period: a second run sends nothing, resend sends again, a new period is new', async () => {
    const { smtp, store, project, env } = await setup();
    const spec = testSpec(project, { delivery: { cc: [], bcc: [] } });
    const log = memoryLog();
    expect((await deliverReport({ store, spec, rendered: testRendered(spec), log, now: NOW, env })).status).toBe('sent');
    await smtp.waitFor(2);
    const again = await deliverReport({ store, spec, rendered: testRendered(spec), log, now: NOW, env });
    expect(again.status).toBe('skipped');
    expect(again.reason).toContain('already sent');
    expect(again.recipients.every((r) => r.status === 'skipped')).toBe(true);
    expect(smtp.messages).toHaveLength(2);
    const resent = await deliverReport({ store, spec, rendered: testRendered(spec), log, now: NOW, env, resend: true });
    expect(resent.status).toBe('sent');
    await smtp.waitFor(4);
    const april = await deliverReport({ store, spec, rendered: testRendered(spec, '2025-04', '2025-05-02'), log, now: NOW, env });
    expect(april.status).toBe('sent');
    await smtp.waitFor(6);
    expect(smtp.messages).toHaveLength(6);
  });

  it('retries a 451 with backoff and records the attempts', async () => {
    const { smtp, store, project, env } = await setup({ rejectFirst: 2 });
    const spec = testSpec(project, { delivery: { to: ['ceo@example.com'], cc: [], bcc: [] } });
    const log = memoryLog();
    const waits: number[] = [];
    const sleep = async (ms: number): Promise<void> => void waits.push(ms);
    const result = await deliverReport({ store, spec, rendered: testRendered(spec), log, now: NOW, env, retry: { attempts: 4, baseDelayMs: 100 }, sleep });
    expect(result.status).toBe('sent');
    expect(result.recipients[0].attempts).toBe(3);
    expect(waits).toEqual([100, 200]);
    expect(smtp.rejected).toBe(2);
    expect(await smtp.waitFor(1)).toHaveLength(1);
    expect(log.lines.filter((l) => l.startsWith('warn mail not accepted'))).toHaveLength(2);
    const [row] = await listDeliveries(store.knex, 'monthly');
    expect([row.status, row.attempts]).toEqual(['sent', 3]);
  });

  it('keeps what was sent when one recipient fails for good; the next run sends only the rest', async () => {
    // The second message is refused with 550 (permanent): no retry, the others still go.
    const { smtp, store, project, env } = await setup({ reject: [2], rejectCode: 550 });
    const spec = testSpec(project, { delivery: { cc: ['cx@example.com'], bcc: [] } });
    const log = memoryLog();
    const first = await deliverReport({ store, spec, rendered: testRendered(spec), log, now: NOW, env, retry: fast });
    expect(first.status).toBe('failed');
    expect(first.recipients.map((r) => [r.address, r.status, r.attempts])).toEqual([
      ['ceo@example.com', 'sent', 1],
      ['cmo@example.com', 'failed', 1],
      ['cx@example.com', 'sent', 1],
    ]);
    expect(first.reason).toContain('cmo@example.com');
    await smtp.waitFor(2);
    const second = await deliverReport({ store, spec, rendered: testRendered(spec), log, now: NOW, env, retry: fast });
    expect(second.status).toBe('sent');
    expect(second.recipients.filter((r) => r.status === 'sent').map((r) => r.address)).toEqual(['cmo@example.com']);
    const received = await smtp.waitFor(3);
    expect(received.map((m) => m.to[0])).toEqual(['ceo@example.com', 'cx@example.com', 'cmo@example.com']);
  });

  it('blocks on a failed freshness check: nothing to the recipients, a notice to the owner, sent once fixed', async () => {
    const { smtp, store, project, env } = await setup();
    const spec = testSpec(project, { checks: { sources_refreshed_within_hours: { '*': 24 }, no_failed_runs_since_last_send: true }, delivery: { cc: [], bcc: [] } });
    // crm was extracted 2 h before the send; ads only 30 h before.
    await insertRun(store.knex, { run_id: 'r-old', status: 'succeeded', started_at: '2025-04-01T00:00:00Z', sources: ['ads', 'crm'] });
    await insertRun(store.knex, { run_id: 'r-new', status: 'succeeded', started_at: '2025-04-02T04:00:00Z', sources: ['crm'] });
    const log = memoryLog();
    const blocked = await deliverReport({ store, spec, rendered: testRendered(spec), log, now: NOW, env, retry: fast });
    expect(blocked.status).toBe('blocked');
    expect(blocked.checks.map((c) => [c.check, c.ok])).toEqual([
      ['source_refreshed:crm', true],
      ['source_refreshed:ads', false],
      ['no_failed_runs', true],
    ]);
    expect(blocked.reason).toContain('source_refreshed:ads');
    const [notice] = await smtp.waitFor(1);
    expect(notice.to).toEqual(['data@example.com']);
    const mail = readMessage(notice.file);
    expect(decodeHeader(mail.headers.subject)).toContain('not sent');
    const text = leaves(mail)[0].body.toString('utf8');
    expect(text).toContain('source_refreshed:ads: ads: last successful extraction 30.0 h ago');
    expect(text).toContain('Held back from: ceo@example.com, cmo@example.com');
    const rows = await listDeliveries(store.knex, 'monthly');
    expect(rows.map((r) => [r.recipient, r.status])).toEqual([
      ['ceo@example.com', 'blocked'],
      ['cmo@example.com', 'blocked'],
    ]);
    expect(rows[0].error).toContain('notice sent to data@example.com');

    // A failed run after that blocks too, until a later run succeeds (and refreshes ads).
    await insertRun(store.knex, { run_id: 'r-failed', status: 'failed', started_at: '2025-04-02T05:00:00Z' });
    const stillBlocked = await deliverReport({ store, spec, rendered: testRendered(spec), log, now: NOW, env, retry: fast });
    expect(stillBlocked.checks.filter((c) => !c.ok).map((c) => c.check)).toEqual(['source_refreshed:ads', 'no_failed_runs']);
    await insertRun(store.knex, { run_id: 'r-fixed', status: 'succeeded', started_at: '2025-04-02T05:30:00Z', sources: ['ads', 'crm'] });
    const sent = await deliverReport({ store, spec, rendered: testRendered(spec), log, now: NOW, env, retry: fast });
    expect(sent.status).toBe('sent');
    expect(sent.checks.every((c) => c.ok)).toBe(true);
    const received = await smtp.waitFor(4);
    expect(received.slice(2).map((m) => m.to[0])).toEqual(['ceo@example.com', 'cmo@example.com']);
    expect((await listDeliveries(store.knex, 'monthly')).map((r) => [r.status, r.run_id])).toEqual([
      ['sent', 'r-fixed'],
      ['sent', 'r-fixed'],
    ]);
  });

  it('refuses recipients outside the allowed domains: a clear error and nothing sent', async () => {
    const { smtp, store, project, env } = await setup();
    const spec = testSpec(project, { delivery: { to: ['ceo@example.com', 'ceo@examp1e.com'], cc: [], bcc: [], owner: 'x@evil.test' } });
    const error = await deliverReport({ store, spec, rendered: testRendered(spec), log: memoryLog(), now: NOW, env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe('delivery refused: ceo@examp1e.com, x@evil.test are outside the allowed domains (example.com); nothing was sent');
    expect(smtp.messages).toHaveLength(0);
    expect(await listDeliveries(store.knex, 'monthly')).toEqual([]);
    // Subdomains of an allowed domain pass.
    const eu = testSpec(project, { delivery: { to: ['ceo@eu.example.com'], cc: [], bcc: [] } });
    expect((await deliverReport({ store, spec: eu, rendered: testRendered(eu), log: memoryLog(), now: NOW, env })).status).toBe('sent');
    expect(existsSync(join(project.dir, 'archive'))).toBe(true);
  });

  it('says what is missing when no SMTP server is configured', async () => {
    const { store, project } = await setup();
    const spec = testSpec(project);
    await expect(deliverReport({ store, spec, rendered: testRendered(spec), log: memoryLog(), now: NOW, env: {} })).rejects.toThrow(/TOUCHPOINT_SMTP_URL is not set/);
  });
});
