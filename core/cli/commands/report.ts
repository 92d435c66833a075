// `touchpoint report <report>`: renders a report (reports/<name>.yaml or a path) for its period —
// computing the period's analytics first — to HTML and PDF files, and with --send hands the result
// to delivery (freshness checks, email, the deliveries ledger).
import { loadPipeline } from '../../config/pipeline.ts';
import { storeUrlFor } from '../../engine/run.ts';
import { ConfigError } from '../../errors.ts';
import { deliverReport } from '../../report/deliver.ts';
import { runReport } from '../../report/run.ts';
import { deliveryFormats, findReport, loadReportSpec } from '../../report/spec.ts';
import type { ReportFormat } from '../../report/types.ts';
import { createLogger } from '../../sdk/log.ts';
import { openStore } from '../../store/index.ts';
import type { Command } from '../command.ts';

function formatsOf(value: unknown): ReportFormat[] | undefined {
  if (value === undefined) return undefined;
  const list = String(value).split(',').map((f) => f.trim().toLowerCase()).filter(Boolean);
  for (const f of list) if (f !== 'html' && f !== 'pdf') throw new ConfigError(`unknown format "${f}"`, { hint: '--format html, --format pdf or --format html,pdf' });
  if (list.length === 0) throw new ConfigError('--format needs html, pdf or both');
  return list as ReportFormat[];
}

export const report: Command = {
  name: 'report',
  summary: 'render a report (HTML, PDF) for its period, and send it with --send',
  usage: 'report <report> [--period <period>] [--out <dir>] [--format html,pdf] [--send] [--resend]',
  details: [
    'The report is a name from reports/ (cx → reports/cx.yaml) or a path to its YAML file. The period',
    'defaults to the report\'s; files are written as <out>/<name>-<period key>.html|.pdf.',
    '',
    'Examples:',
    '  touchpoint report cx',
    '  touchpoint report roi --period 2025-02 --format pdf',
    '  touchpoint report cx --send            # freshness checks, then email (once per period)',
  ].join('\n'),
  options: {
    period: { type: 'string', value: 'period', description: 'last_month, 2025-03, 2025-03-01..2025-03-31, … (default: the report\'s)' },
    out: { type: 'string', value: 'dir', description: 'output folder (default out/reports)' },
    format: { type: 'string', value: 'list', description: 'html, pdf or html,pdf (default: the report\'s formats)' },
    send: { type: 'boolean', description: 'deliver by email after rendering (freshness checks first)' },
    resend: { type: 'boolean', description: 'with --send: send again to recipients who already got this period' },
  },
  async run({ values, positionals }, output) {
    const [name, extra] = positionals;
    if (!name) throw new ConfigError('report needs a report name or file', { hint: 'touchpoint report cx   (reports/cx.yaml)' });
    if (extra) throw new ConfigError(`unexpected argument "${extra}"`, { hint: 'one report per command' });
    if (values.resend && !values.send) throw new ConfigError('--resend only makes sense with --send');
    const spec = loadReportSpec(findReport(name));
    // Delivery needs the HTML body and, when attached, the PDF, whatever --format or the report asks.
    const asked = formatsOf(values.format);
    const formats = values.send ? deliveryFormats(spec, asked) : asked;
    const pipeline = loadPipeline(spec.pipeline);
    output.secrets.push(...pipeline.secrets);
    const log = createLogger({ secrets: pipeline.secrets, level: values.verbose ? 'debug' : output.json ? 'error' : 'warn', format: 'text' });
    const store = await openStore({ url: storeUrlFor(pipeline), baseDir: process.cwd() });
    try {
      await store.migrate();
      const rendered = await runReport({ spec, store, pipeline, log, period: values.period as string | undefined, outDir: (values.out as string | undefined) ?? 'out/reports', formats });
      const delivery = values.send ? await deliverReport({ store, spec, rendered, resend: values.resend === true, log }) : undefined;
      if (output.json) {
        output.data({ report: spec.name, period: rendered.period.key, summary: rendered.summary, kpis: rendered.kpis, files: rendered.files, ms: rendered.renderMs, delivery });
      } else {
        output.err(`${spec.name} ${rendered.period.key}: ${rendered.summary}`);
        for (const file of Object.values(rendered.files)) if (file) output.out(file);
        if (delivery) output.err(`delivery: ${delivery.status}${'reason' in delivery && delivery.reason ? ` (${String(delivery.reason)})` : ''}`);
      }
      return delivery && (delivery.status === 'failed' || delivery.status === 'blocked') ? 1 : 0;
    } finally {
      await store.close();
    }
  },
};
