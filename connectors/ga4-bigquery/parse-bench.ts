// Throughput of the GA4 export parsing and mapping on one core: ~200k synthetic web export rows
// (fake/generate.ts: a dozen event parameters, device, geo, traffic sources, purchases with items)
// through ga4RecordFromExportRow + mapGa4Event, and the same with JSON.parse of NDJSON lines first
// (the `file` connector's path). Prints figures; asserts nothing.
//   npx node connectors/ga4-bigquery/parse-bench.ts [rows]
import { ga4RecordFromExportRow } from './export-row.ts';
import { generateExportRows } from './fake/generate.ts';
import { mapGa4Event } from './map.ts';

const total = Number(process.argv[2] ?? 200_000);
const perDay = 50_000;
const rows = Array.from({ length: Math.ceil(total / perDay) }, (_, d) =>
  generateExportRows({ date: `2024-05-${String(10 + d).padStart(2, '0')}`, count: Math.min(perDay, total - d * perDay), seed: d + 1 }),
).flat();
const lines = rows.map((r) => JSON.stringify(r));
const bytes = lines.reduce((n, l) => n + l.length + 1, 0);
const options = { keepOtherEvents: true };

function run(label: string, each: (i: number) => number): void {
  // One warm-up pass so the JIT has compiled the hot paths, then three timed passes.
  for (let i = 0; i < rows.length; i++) each(i);
  const rates: number[] = [];
  let produced = 0;
  for (let pass = 0; pass < 3; pass++) {
    const t0 = performance.now();
    produced = 0;
    for (let i = 0; i < rows.length; i++) produced += each(i);
    rates.push(rows.length / ((performance.now() - t0) / 1000));
  }
  const best = Math.max(...rates);
  console.log(`${label}: ${Math.round(best).toLocaleString('en')} events/s (passes: ${rates.map((r) => Math.round(r / 1000) + 'k').join(', ')}; ${produced} canonical events)`);
}

console.log(`Node ${process.versions.node}, ${rows.length.toLocaleString('en')} GA4 export rows, ${(bytes / 1e6).toFixed(0)} MB as NDJSON`);
run('ga4RecordFromExportRow + mapGa4Event', (i) => mapGa4Event(ga4RecordFromExportRow(rows[i]), options).events?.length ?? 0);
run('JSON.parse + ga4RecordFromExportRow + mapGa4Event', (i) => mapGa4Event(ga4RecordFromExportRow(JSON.parse(lines[i])), options).events?.length ?? 0);
