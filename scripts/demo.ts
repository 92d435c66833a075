// `npm run demo`: writes the seeded sample world (data/demo) and runs pipelines/demo.yaml on the
// embedded store, exactly as a user would with the CLI. Later stages (identity, journeys, analytics,
// reports) run as part of the pipeline as they are added.
import { resolve } from 'node:path';
import { generateDemo } from '../bench/generator/demo.ts';
import { main } from '../core/cli/main.ts';

const started = Date.now();
const data = await generateDemo({ out: resolve('data/demo'), people: 2000, seed: 42, start: '2025-01-01', days: 90 });
const rows = data.files.reduce((n, f) => n + f.rows, 0);
console.log(`demo data: ${rows.toLocaleString('en')} rows in ${data.files.length} files under data/demo (seed ${data.seed})`);

const code = await main(['run', 'pipelines/demo.yaml', ...process.argv.slice(2)]);
if (code === 0) {
  console.log(`demo done in ${((Date.now() - started) / 1000).toFixed(1)} s — try: npx touchpoint runs`);
}
process.exitCode = code;
