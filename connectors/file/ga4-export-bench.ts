// Throughput of `format: ga4-export`: one gzipped NDJSON dump of synthetic GA4 web export rows
// (../ga4-bigquery/fake/generate.ts: a dozen event parameters, device, geo, traffic sources, purchases
// with items) read by the file connector's stream (gunzip, split, JSON.parse, ga4RecordFromExportRow,
// record schema) and then mapped (mapGa4Event), the record validated again as the engine does. Prints
// records/s by wall clock and by CPU time of this process (gunzip runs on a libuv thread: pin the
// process with `taskset -c 0` to keep it to one core). Asserts nothing.
//   npx node connectors/file/ga4-export-bench.ts [rows]
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createRecordValidator } from '../../core/sdk/records.ts';
import type { JsonObject, Logger, ReadContext } from '../../core/sdk/types.ts';
import { generateExportRows } from '../ga4-bigquery/fake/generate.ts';
import { buildStreams } from './streams.ts';
import type { FileConfig } from './streams.ts';

const total = Number(process.argv[2] ?? 100_000);
const perDay = 50_000;
/** One file, a day of rows after another (several daily tables dumped together); returns its NDJSON size. */
async function writeDump(file: string): Promise<number> {
  // The generated rows are dropped once written, so that they do not weigh on the timed passes' GC.
  const lines: string[] = [];
  for (let d = 0; d * perDay < total; d++) {
    const rows = generateExportRows({ date: `2024-05-${String(10 + d).padStart(2, '0')}`, count: Math.min(perDay, total - d * perDay), seed: d + 1 });
    for (const r of rows) lines.push(JSON.stringify(r));
  }
  const text = `${lines.join('\n')}\n`;
  await writeFile(file, gzipSync(text));
  return Buffer.byteLength(text);
}

const dir = await mkdtemp(join(tmpdir(), 'touchpoint-ga4-bench-'));
try {
  const file = join(dir, 'events.ndjson.gz');
  const bytes = await writeDump(file);
  const gz = (await stat(file)).size;

  const config: FileConfig = { streams: [{ name: 'events', path: '*.ndjson.gz', format: 'ga4-export', ga4: { keep_other_events: true } }] };
  const [stream] = buildStreams(config);
  const log: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => log };
  const ctx: ReadContext<FileConfig> = {
    source: 'bench',
    stream: 'events',
    config,
    state: {},
    fullRefresh: false,
    http: {} as ReadContext['http'],
    log,
    signal: new AbortController().signal,
    resolvePath: (p) => resolve(dir, p),
    options: { retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, timeoutMs: 1000 } },
  };
  const validate = createRecordValidator(stream.schema);
  const mapCtx = { source: 'bench', stream: 'events', config };

  const pass = async (map: boolean) => {
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    let records = 0;
    let events = 0;
    for await (const batch of stream.read(ctx)) {
      for (const record of batch.records as JsonObject[]) {
        records++;
        if (!map) continue;
        if (validate(record)) throw new Error(`invalid record ${String(record.event_id)}`);
        events += stream.map!(record, mapCtx).events?.length ?? 0;
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(cpu);
    return { records, events, seconds, cpuSeconds: (used.user + used.system) / 1e6 };
  };

  console.log(`Node ${process.versions.node}, ${total.toLocaleString('en')} GA4 export rows: ${(bytes / 1e6).toFixed(0)} MB NDJSON, ${(gz / 1e6).toFixed(1)} MB gzipped`);
  await pass(true); // warm-up: the JIT compiles the hot paths
  for (const [label, map] of [['read (gunzip, parse, record, schema)', false], ['read + validate + map', true]] as const) {
    const runs = [await pass(map), await pass(map), await pass(map)];
    const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const rate = (n: number) => Math.round(n).toLocaleString('en');
    console.log(
      `${label}: ${rate(best.records / best.seconds)} records/s wall, ${rate(best.records / best.cpuSeconds)} records per CPU-second` +
        ` (passes: ${runs.map((r) => `${(r.seconds * 1000).toFixed(0)} ms`).join(', ')}; ${best.records} records${map ? `, ${best.events} events` : ''})`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
