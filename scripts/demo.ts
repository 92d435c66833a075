// `npm run demo`: writes the seeded sample world (data/demo), runs pipelines/demo.yaml on the
// embedded store exactly as a user would with the CLI, then renders the demo reports (reports/cx.yaml,
// reports/roi.yaml) to out/reports as HTML and PDF, one browser serving both.
import { resolve } from 'node:path';
import { generateDemo } from '../bench/generator/demo.ts';
import { main } from '../core/cli/main.ts';
import { withBrowser } from '../core/report/pdf.ts';
import { runReport } from '../core/report/run.ts';
import { loadReportSpec } from '../core/report/spec.ts';
import { createLogger } from '../core/sdk/log.ts';

const started = Date.now();
const data = await generateDemo({ out: resolve('data/demo'), people: 2000, seed: 42, start: '2025-01-01', days: 90 });
const rows = data.files.reduce((n, f) => n + f.rows, 0);
console.log(`demo data: ${rows.toLocaleString('en')} rows in ${data.files.length} files under data/demo (seed ${data.seed})`);

let code = await main(['run', 'pipelines/demo.yaml', ...process.argv.slice(2)]);
if (code === 0) {
  const log = createLogger({ secrets: [], level: 'warn', format: 'text' });
  try {
    await withBrowser(async (browser) => {
      for (const name of ['cx', 'roi']) {
        const report = await runReport({ spec: loadReportSpec(`reports/${name}.yaml`), log, browser, outDir: 'out/reports' });
        console.log(`report ${name} (${report.period.key}, ${report.renderMs} ms): ${report.summary}`);
        for (const file of Object.values(report.files)) console.log(`  ${file}`);
      }
    });
  } catch (error) {
    console.error(`reports: ${(error as Error).message}`);
    code = 1;
  }
}
if (code === 0) console.log(`demo done in ${((Date.now() - started) / 1000).toFixed(1)} s — try: npx touchpoint runs, npx touchpoint report cx`);
process.exitCode = code;
