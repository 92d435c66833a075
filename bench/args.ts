// The command line of `npm run bench` and the size presets. Pure: argv in, options out (or a usage
// error), so the harness's choices can be tested without running it.
import { parseArgs } from 'node:util';

export type Size = 'S' | 'M' | 'L';
export type StoreKind = 'duckdb' | 'postgres';

/**
 * People simulated per size. The demo world gives ~12.3 web events per person plus ~0.4 CRM events
 * (deals, calls, emails) — 7,000 people made 85,711 web events — so these land near 100k, 1M and
 * 10M events; the run reports the actual counts.
 */
export const SIZES: Readonly<Record<Size, { events: number; people: number }>> = {
  S: { events: 100_000, people: 8_000 },
  M: { events: 1_000_000, people: 80_000 },
  L: { events: 10_000_000, people: 800_000 },
};

export interface BenchOptions {
  size: Size;
  store: StoreKind;
  people: number;
  seed: number;
  /** Where the generated world is (kept and reused when its manifest matches). */
  data?: string;
  /** PostgreSQL server for the postgres store and the COPY reference (a schema per size is created). */
  pgUrl: string;
  /** settings.concurrency of the generated pipeline. */
  concurrency: number;
  /** Share of new events in the incremental re-run (0 skips it). */
  increment: number;
  /** Skip the reference measurements (DuckDB read, COPY, union-find). */
  references: boolean;
  /** Keep the store afterwards (default: removed). */
  keep: boolean;
  /** Results folder. */
  results: string;
  /** DuckDB's memory_limit for the store (`SET memory_limit`), e.g. `1GB`; default: the store's (1GB, or TOUCHPOINT_DUCKDB_MEMORY_LIMIT). */
  duckdbMemoryLimit?: string;
}

export const USAGE = `usage: npm run bench [-- --size S|M|L] [--store duckdb|postgres] [--people N] [--seed N] [--data DIR]
                 [--pg-url URL] [--concurrency N] [--increment 0.01] [--no-references] [--keep] [--results DIR]
                 [--duckdb-memory-limit 1GB]
  S = ~100k events, M = ~1M, L = ~10M (L is meant for --store postgres)`;

export class UsageError extends Error {}

function positive(name: string, text: string, integer = true): number {
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isSafeInteger(n))) throw new UsageError(`--${name} must be a ${integer ? 'whole ' : ''}number ≥ 0 (got ${text})`);
  return n;
}

export function parseBenchArgs(argv: string[], env: Record<string, string | undefined> = {}): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      size: { type: 'string', default: 'S' },
      store: { type: 'string', default: 'duckdb' },
      people: { type: 'string' },
      seed: { type: 'string', default: '42' },
      data: { type: 'string' },
      'pg-url': { type: 'string' },
      concurrency: { type: 'string', default: '2' },
      increment: { type: 'string', default: '0.01' },
      'no-references': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      results: { type: 'string', default: 'bench/results' },
      'duckdb-memory-limit': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const size = values.size.toUpperCase();
  if (size !== 'S' && size !== 'M' && size !== 'L') throw new UsageError(`--size must be S, M or L (got ${values.size})`);
  const store = values.store.toLowerCase();
  if (store !== 'duckdb' && store !== 'postgres') throw new UsageError(`--store must be duckdb or postgres (got ${values.store})`);
  const concurrency = positive('concurrency', values.concurrency);
  if (concurrency < 1) throw new UsageError('--concurrency must be at least 1');
  const increment = positive('increment', values.increment, false);
  if (increment > 1) throw new UsageError(`--increment is a share of the events, 0–1 (got ${values.increment})`);
  const people = values.people === undefined ? SIZES[size].people : positive('people', values.people);
  if (people < 1) throw new UsageError('--people must be at least 1');
  const limit = values['duckdb-memory-limit'];
  if (limit !== undefined && !/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(limit)) throw new UsageError(`--duckdb-memory-limit takes a size such as 1GB (got ${limit})`);
  return {
    size,
    store,
    people,
    seed: positive('seed', values.seed),
    data: values.data,
    pgUrl: values['pg-url'] ?? env.TOUCHPOINT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    concurrency,
    increment,
    references: !values['no-references'],
    keep: values.keep,
    results: values.results,
    duckdbMemoryLimit: limit,
  };
}
