// Report specs and rendered reports built by hand for delivery and scheduler tests (rendering is
// tested on its own): a pipeline file in a temp folder, a spec with delivery and checks, and a
// RenderedReport with a real HTML string and PDF bytes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { comparisonPeriod, resolvePeriod } from '../analytics/period.ts';
import type { Logger } from '../sdk/types.ts';
import type { RenderedReport, ReportDelivery, ReportSpec } from './types.ts';

export function testProject(): { dir: string; pipeline: string } {
  const dir = mkdtempSync(join(tmpdir(), 'touchpoint-deliver-'));
  const pipeline = join(dir, 'acme.yaml');
  writeFileSync(
    pipeline,
    ['version: 1', 'name: acme', 'sources:', '  - name: crm', '    connector: file', '    config: { path: x }', '  - name: ads', '    connector: file', '    config: { path: y }', '  - name: old', '    connector: file', '    enabled: false', '    config: { path: z }', ''].join('\n'),
  );
  return { dir, pipeline };
}

export function testSpec(project: { dir: string; pipeline: string }, overrides: Omit<Partial<ReportSpec>, 'delivery'> & { delivery?: Partial<ReportDelivery> } = {}): ReportSpec {
  const { delivery, ...rest } = overrides;
  return {
    file: join(project.dir, 'monthly.yaml'),
    dir: project.dir,
    name: 'monthly',
    title: 'Monthly & <CX>',
    pipeline: project.pipeline,
    template: 'cx',
    period: 'last_month',
    comparison: 'previous_period',
    sections: [],
    formats: ['html', 'pdf'],
    locale: 'en-GB',
    currency: 'EUR',
    model: 'markov',
    page: { size: 'A4', orientation: 'portrait' },
    branding: { primary_color: '#1f4e79', accent_color: '#e69138' },
    checks: {},
    delivery: {
      to: ['ceo@example.com', 'cmo@example.com'],
      cc: ['cx@example.com'],
      bcc: ['audit@example.com'],
      subject: '{{report.title}} — {{period.label}}\n{{summary}}',
      attach_pdf: true,
      inline_html: true,
      archive: 'archive',
      owner: 'data@example.com',
      allowed_domains: ['example.com'],
      from: 'reports@example.com',
      ...delivery,
    },
    ...rest,
  };
}

/** PDF-like bytes with every byte value, so a transfer that is not 8-bit clean shows. */
export function pdfBytes(): Uint8Array {
  const head = Buffer.from('%PDF-1.7\n');
  const all = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256));
  return new Uint8Array(Buffer.concat([head, all, Buffer.from('\n%%EOF\n')]));
}

export function testRendered(spec: ReportSpec, period = '2025-03', today = '2025-04-02'): RenderedReport {
  const p = resolvePeriod(period, today, 'UTC');
  return {
    spec,
    period: p,
    comparison: comparisonPeriod(p, spec.comparison),
    summary: 'Revenue rose 12% to €48,200; 310 conversions.',
    html: '<!doctype html><html><body><h1>Monthly</h1><p>Revenue rose 12%</p></body></html>',
    pdf: pdfBytes(),
    files: {},
    kpis: { revenue: 48200, conversions: 310, conversion_rate: 0.042 },
    renderMs: 1,
  };
}

/** Collects log lines (to check what is and is not logged). */
export function memoryLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push(`${level} ${message} ${JSON.stringify({ ...bindings, ...fields })}`);
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (more) => make({ ...bindings, ...more }) };
  };
  return Object.assign(make({}), { lines });
}

/** A run in the ledger, as the engine would have written it. */
export async function insertRun(db: Knex, run: { run_id: string; status: string; started_at: string; ended_at?: string; pipeline?: string; sources?: string[] }): Promise<void> {
  const rows = Object.fromEntries((run.sources ?? ['crm', 'ads']).map((s) => [`${s}/records`, { records: 1, quarantined: 0 }]));
  await db('runs').insert({
    run_id: run.run_id,
    pipeline: run.pipeline ?? 'acme',
    started_at: new Date(run.started_at),
    ended_at: new Date(run.ended_at ?? run.started_at),
    status: run.status,
    rows: JSON.stringify(rows),
    error: run.status === 'failed' ? 'boom' : null,
  });
}
