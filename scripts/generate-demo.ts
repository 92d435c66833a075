// Writes the seeded demo data set that pipelines/demo.yaml loads: web events, CRM exports and ad
// spend under data/demo (see bench/generator/demo.ts for what is in it). Same seed, same bytes.
//
//   node scripts/generate-demo.ts [--out data/demo] [--people 2000] [--seed 42] [--start 2025-01-01] [--days 90]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateDemo } from '../bench/generator/demo.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'data/demo' },
    people: { type: 'string', default: '2000' },
    seed: { type: 'string', default: '42' },
    start: { type: 'string', default: '2025-01-01' },
    days: { type: 'string', default: '90' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log('usage: node scripts/generate-demo.ts [--out data/demo] [--people 2000] [--seed 42] [--start 2025-01-01] [--days 90]');
  process.exit(0);
}

function count(name: string, text: string): number {
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`--${name} must be a positive whole number (got ${text})`);
    process.exit(2);
  }
  return n;
}

const result = await generateDemo({
  out: resolve(values.out),
  people: count('people', values.people),
  seed: count('seed', values.seed),
  start: values.start,
  days: count('days', values.days),
  onProgress: (done, total) => process.stderr.write(`\r${done.toLocaleString('en')} / ${total.toLocaleString('en')} people`),
});
if (result.people >= 10_000) process.stderr.write('\n');

const width = Math.max(...result.files.map((f) => f.path.length));
console.log(`demo data in ${values.out} (seed ${result.seed}, ${result.people.toLocaleString('en')} people, ${result.start} – ${result.end})`);
for (const f of result.files) {
  console.log(`  ${f.path.padEnd(width)}  ${f.rows.toLocaleString('en').padStart(11)} rows  ${(f.bytes / 1024).toFixed(0).padStart(8)} KiB`);
}
console.log(`done in ${(result.ms / 1000).toFixed(2)} s`);
