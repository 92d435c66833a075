// Writes the YAML reference part of docs/reports.md from report.schema.json: `node core/report/gen-docs.ts`.
// The generated part sits between two markers; the guide around it (templates, helpers, charts, PDF,
// scheduling) is written by hand. With `--check` it writes nothing and exits 1 when out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderSchemaMarkdown } from '../config/schema-doc.ts';
import { reportSchema } from './spec.ts';

export const REPORT_DOCS_FILE = fileURLToPath(new URL('../../docs/reports.md', import.meta.url));
const START = '<!-- reference:start (generated from core/report/report.schema.json by `node core/report/gen-docs.ts`; do not edit by hand) -->';
const END = '<!-- reference:end -->';

export function renderReportDocs(current: string): string {
  const reference = renderSchemaMarkdown(reportSchema, { level: 2, title: 'Report YAML reference' }).trimEnd();
  const block = `${START}\n\n${reference}\n\n${END}`;
  const at = current.indexOf('<!-- reference:start');
  const end = current.indexOf(END);
  if (at < 0 || end < 0) return `${current.trimEnd()}\n\n${block}\n`;
  return `${current.slice(0, at)}${block}${current.slice(end + END.length)}`;
}

function main(argv: string[]): number {
  const current = readFileSync(REPORT_DOCS_FILE, 'utf8');
  const text = renderReportDocs(current);
  if (argv.includes('--check')) {
    if (current === text) return 0;
    console.error('docs/reports.md is out of date: run node core/report/gen-docs.ts');
    return 1;
  }
  writeFileSync(REPORT_DOCS_FILE, text);
  console.log(`wrote ${REPORT_DOCS_FILE}`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
