// `touchpoint connector new <name>` scaffolds a connector (TypeScript or YAML-only) that passes its
// own test and the kit as generated; `touchpoint connector test <name|path>` runs the conformance kit
// (core/engine/conformance/) and prints a pass/fail table, or the report as JSON for CI.
import { runConformance } from '../../engine/conformance/kit.ts';
import type { ConformanceReport } from '../../engine/conformance/kit.ts';
import { ConfigError } from '../../errors.ts';
import type { Command } from '../command.ts';
import { table } from '../render.ts';
import type { Output } from '../render.ts';
import { scaffoldConnector } from '../scaffold/index.ts';

const USAGE = 'connector new <name> [--dir connectors] [--declarative] | connector test <name|path>…';

export function renderReport(report: ConformanceReport): string {
  const rows = report.checks.map((c) => ({ check: c.check, stream: c.stream ?? '', result: c.status === 'pass' ? 'PASS' : c.status === 'fail' ? 'FAIL' : 'n/a', detail: c.detail }));
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  const passed = report.checks.filter((c) => c.status === 'pass').length;
  return [
    `${report.connector}${report.version ? ` ${report.version}` : ''}${report.entry ? ` (${report.entry})` : ''}`,
    table(rows, ['check', 'stream', 'result', 'detail']),
    report.ok ? `PASS: ${passed} checks passed` : `FAIL: ${failed} of ${passed + failed} checks failed`,
  ].join('\n');
}

async function test(targets: string[], output: Output): Promise<number> {
  if (targets.length === 0) throw new ConfigError('connector test needs a connector name or path', { hint: 'touchpoint connector test hubspot  (or ./connectors/my-api)' });
  const reports: ConformanceReport[] = [];
  for (const target of targets) {
    const report = await runConformance(target, { cwd: process.cwd() });
    reports.push(report);
    if (!output.json) output.out(`${renderReport(report)}\n`);
  }
  if (output.json) output.data(reports.length === 1 ? reports[0] : reports);
  return reports.every((r) => r.ok) ? 0 : 1;
}

export const connector: Command = {
  name: 'connector',
  summary: 'scaffold a connector (new) or run the conformance kit on one (test)',
  usage: USAGE,
  details: [
    'Examples:',
    '  touchpoint connector new acme-crm                 TypeScript connector in connectors/acme-crm',
    '  touchpoint connector new acme-crm --declarative   YAML-only REST connector',
    '  touchpoint connector test hubspot                 the kit on a built-in or installed connector',
    '  touchpoint connector test ./connectors/acme-crm --json',
    'A guide from nothing to a published connector: docs/connectors.md.',
  ].join('\n'),
  options: {
    dir: { type: 'string', value: 'folder', description: 'new: where the connector folder goes (default connectors)' },
    declarative: { type: 'boolean', description: 'new: a YAML-only REST connector (connector.yaml) instead of TypeScript' },
  },
  async run(args, output) {
    const [sub, ...rest] = args.positionals;
    if (sub === 'test') return test(rest, output);
    if (sub === 'new') {
      if (rest.length !== 1) throw new ConfigError('connector new needs exactly one name', { hint: 'touchpoint connector new acme-crm' });
      const made = scaffoldConnector({ name: rest[0], dir: String(args.values.dir ?? 'connectors'), declarative: args.values.declarative === true, cwd: process.cwd() });
      if (output.json) output.data(made);
      else {
        output.out(`created ${made.dir}:\n${made.files.map((f) => `  ${f}`).join('\n')}`);
        output.out(`next: npx vitest run ${made.testFile} && npx touchpoint connector test ${made.dir}`);
      }
      return 0;
    }
    throw new ConfigError(`unknown subcommand ${JSON.stringify(sub ?? '')}`, { hint: `usage: touchpoint ${USAGE}` });
  },
};
