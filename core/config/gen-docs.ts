// Writes docs/pipeline.md from pipeline.schema.json: `node core/config/gen-docs.ts`. With `--check` it
// writes nothing and exits 1 when the file is out of date (for CI); a test does the same check.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pipelineSchema } from './pipeline.ts';
import { renderSchemaMarkdown } from './schema-doc.ts';

export const PIPELINE_DOCS_FILE = fileURLToPath(new URL('../../docs/pipeline.md', import.meta.url));

export function renderPipelineDocs(): string {
  return renderSchemaMarkdown(pipelineSchema, {
    header:
      '<!-- Generated from core/config/pipeline.schema.json by `node core/config/gen-docs.ts`. Do not edit by hand: change the schema and run the script again. -->',
  });
}

function main(argv: string[]): number {
  const text = renderPipelineDocs();
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(PIPELINE_DOCS_FILE, 'utf8');
    } catch {
      // A missing file is simply out of date.
    }
    if (current === text) return 0;
    console.error('docs/pipeline.md is out of date: run node core/config/gen-docs.ts');
    return 1;
  }
  writeFileSync(PIPELINE_DOCS_FILE, text);
  console.log(`wrote ${PIPELINE_DOCS_FILE}`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
