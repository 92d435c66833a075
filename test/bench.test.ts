// The benchmark harness's logic (not its timings): argument parsing, the results file and its target
// checks, the union-find reference against the identity stage, the increment generator, and issue
// #8 item 4 — a slow source does not hold up the others (order of completion, never wall-clock).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../core/config/pipeline.ts';
import { extractAll } from '../core/engine/extract.ts';
import type { PlannedStream } from '../core/engine/extract.ts';
import { runPipeline } from '../core/engine/run.ts';
import { resolveIdentityConfig } from '../core/identity/config.ts';
import { runIdentity } from '../core/identity/stage.ts';
import { DEFAULT_RETRY_POLICY } from '../core/sdk/http.ts';
import { defineConnector, defineStream } from '../core/sdk/index.ts';
import { createLogger } from '../core/sdk/log.ts';
import type { JsonObject } from '../core/sdk/types.ts';
import { openStore } from '../core/store/index.ts';
import { tempDuckDB } from '../core/store/test-support.ts';
import type { Store } from '../core/store/types.ts';
import { parseBenchArgs, SIZES, UsageError } from '../bench/args.ts';
import { generateDemo } from '../bench/generator/demo.ts';
import { generateIncrement } from '../bench/generator/increment.ts';
import { checkTargets, ratios, resultFileName, stageResult } from '../bench/results.ts';
import type { BenchResult } from '../bench/results.ts';
import { identifierKey, LinkFeeder, UnionFind } from '../bench/union-find.ts';

const log = createLogger({ secrets: [], level: 'error', write: () => {} });
const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('bench arguments', () => {
  it('defaults to S on DuckDB with the preset people count', () => {
    const o = parseBenchArgs([]);
    expect(o).toMatchObject({ size: 'S', store: 'duckdb', people: SIZES.S.people, concurrency: 2, increment: 0.01, references: true, keep: false });
  });

  it('reads size, store and overrides', () => {
    const o = parseBenchArgs(['--size', 'm', '--store', 'postgres', '--people', '1_000', '--concurrency', '4', '--no-references', '--increment', '0'], { TOUCHPOINT_BENCH_PG_URL: 'postgres://x@h:5432/db' });
    expect(o).toMatchObject({ size: 'M', store: 'postgres', people: 1000, concurrency: 4, references: false, increment: 0, pgUrl: 'postgres://x@h:5432/db' });
    expect(parseBenchArgs(['--help'])).toBe('help');
  });

  it('refuses what it cannot run', () => {
    expect(() => parseBenchArgs(['--size', 'XL'])).toThrow(UsageError);
    expect(() => parseBenchArgs(['--store', 'sqlite'])).toThrow(/duckdb or postgres/);
    expect(() => parseBenchArgs(['--concurrency', '0'])).toThrow(/at least 1/);
    expect(() => parseBenchArgs(['--increment', '2'])).toThrow(/share/);
    expect(() => parseBenchArgs(['--sise', 'S'])).toThrow();
    expect(() => parseBenchArgs(['--duckdb-memory-limit', 'lots'])).toThrow(/size such as/);
    expect(parseBenchArgs(['--duckdb-memory-limit', '1GB'])).toMatchObject({ duckdbMemoryLimit: '1GB' });
  });
});

function result(overrides: Partial<Omit<BenchResult, 'targets'>> = {}): Omit<BenchResult, 'targets'> {
  const m = (ms: number, peak = 500 * 1024 ** 2) => ({ ms, cpuMs: ms, peakRssBytes: peak });
  const stages = [stageResult('extract+load', m(4000), 1_000_000, 'records'), stageResult('identity', m(2000), 1_300_000, 'observations'), stageResult('report', m(0), 0, 'reports', 'skipped')];
  const base = {
    version: 1 as const,
    date: '2026-01-01T00:00:00.000Z',
    size: 'M' as const,
    store: 'duckdb' as const,
    storeUrl: 'duckdb:///tmp/x.duckdb',
    machine: { cpus: 2, totalMemoryBytes: 1, node: '24', loadBefore: '1', loadAfter: '1', baselineRssBytes: 1 },
    world: { people: 80_000, seed: 42, data: '/d', generateMs: 1, files: 8, records: 1_000_000, events: 1_000_000, observations: 1_300_000, persons: 1, journeys: 1 },
    concurrency: 2,
    duckdbMemoryLimit: null,
    stages,
    total: { ms: 6000, peakRssBytes: 500 * 1024 ** 2 },
    references: { duckdbRead: { kind: 'duckdb-read' as const, ms: 2000, rows: 1_000_000, peakRssBytes: 1 }, pgCopy: { error: 'not reachable' } },
    incremental: { share: 0.01, newEvents: 10_000, ms: 500, peakRssBytes: 1, ratioToFull: 0.083, stages: [] },
    ...overrides,
  };
  return { ...base, ratios: ratios(base), ...overrides };
}

describe('bench results', () => {
  it('computes rows/s and the ratios to the references', () => {
    const r = result();
    expect(r.stages[0]).toMatchObject({ name: 'extract+load', rowsPerSecond: 250_000, status: 'done' });
    expect(r.ratios).toEqual({ endToEndVsDuckdbRead: 3, loadVsDuckdbRead: 2, loadVsPgCopy: null, identityVsUnionFind: null });
  });

  it('checks the targets that apply, and says n/a for the rest', () => {
    const checks = checkTargets(result(), { total: { ms: 1000, peakRssBytes: 0 }, world: { events: 100_000 } as BenchResult['world'], date: 'd' });
    const by = Object.fromEntries(checks.map((c) => [c.name.split(' ')[0] + c.target, c.status]));
    expect(checks.map((c) => c.status)).toEqual(['MISS', 'PASS', 'PASS', 'PASS', 'n/a']);
    expect(by).toBeDefined();
    const s = checkTargets(result({ size: 'S' }));
    expect(s[0].status).toBe('n/a');
    expect(s[2].status).toBe('n/a');
    const l = checkTargets(result({ size: 'L', store: 'postgres', total: { ms: 1, peakRssBytes: 2 * 1024 ** 3 } }));
    expect(l[1]).toMatchObject({ target: '≤ 1 GB', status: 'MISS' });
    expect(l[4]).toMatchObject({ status: 'MISS', value: 'completed' });
  });

  it('names the file by date, size and store', () => {
    expect(resultFileName(new Date('2026-03-04T23:00:00Z'), 'M', 'postgres')).toBe('2026-03-04-M-postgres.json');
  });

  it('is JSON-serialisable as written', () => {
    const r = { ...result(), targets: checkTargets(result()) };
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});

describe('union-find reference', () => {
  it('links the identifiers of one observation and counts components', () => {
    const f = new LinkFeeder();
    f.add('o1', 'email:a');
    f.add('o1', 'ga:1');
    f.add('o2', 'ga:1');
    f.add('o2', 'ga:2');
    f.add('o3', 'email:b');
    f.add('o4', 'ga:2');
    expect(f.uf.nodes).toBe(4);
    expect(f.uf.components()).toBe(2);
    expect(f.uf.labels().get('ga:2')).toBe('email:a');
    expect(f.links).toBe(6);
  });

  it('grows past its initial capacity', () => {
    const uf = new UnionFind();
    for (let i = 1; i < 5000; i++) uf.union(uf.node(`k${i - 1}`), uf.node(`k${i}`));
    expect(uf.nodes).toBe(5000);
    expect(uf.components()).toBe(1);
  });

  async function labelsOf(store: Store): Promise<{ uf: Map<string, string>; persons: Map<string, string> }> {
    const links = (await store.knex.raw('select observation_id, identifier_type, identifier_value from identifier_observations order by observation_id')).rows as Record<string, string>[];
    const f = new LinkFeeder();
    for (const l of links) f.add(l.observation_id, identifierKey(l.identifier_type, l.identifier_value));
    const map = (await store.knex.raw('select identifier_type, identifier_value, person_id from identity_map where person_id is not null')).rows as Record<string, string>[];
    return { uf: f.uf.labels(), persons: new Map(map.map((m) => [identifierKey(m.identifier_type, m.identifier_value), m.person_id])) };
  }

  it('equals the identity stage where no guard applies', async () => {
    const db = tempDuckDB();
    dirs.push(db.dir);
    const store = await openStore({ url: db.url });
    try {
      await store.migrate();
      await store.startRun({ run_id: 'r1', pipeline: 'p' });
      const obs = [
        ['w:e:1', 'ga_client_id', '111.1'],
        ['w:e:1', 'user_id', 'u1'],
        ['w:e:2', 'ga_client_id', '222.2'],
        ['w:e:2', 'user_id', 'u1'],
        ['w:e:3', 'ga_client_id', '333.3'],
        ['c:c:1', 'hubspot_contact_id', '9'],
        ['c:c:1', 'email', 'anna@mail.example'],
        ['c:c:1', 'ga_client_id', '333.3'],
        ['w:e:4', 'ga_client_id', '444.4'],
        ['w:e:5', 'email', 'ben@mail.example'],
      ];
      await store.knex('identifier_observations').insert(obs.map(([o, t, v]) => ({ observation_id: o, identifier_type: t, identifier_value: v, source: o.split(':')[0], stream: o.split(':')[1], record_pk: o, observed_at: new Date('2025-01-01T00:00:00Z'), run_id: 'r1' })));
      const summary = await runIdentity(store, { config: resolveIdentityConfig({}), runId: 'r1' });
      expect(summary.mode).toBe('full');
      const { uf, persons } = await labelsOf(store);
      expect(persons.size).toBe(uf.size);
      // The same partition: two identifiers share a person exactly when they share a component.
      const keys = [...uf.keys()];
      for (const a of keys) for (const b of keys) expect(persons.get(a) === persons.get(b)).toBe(uf.get(a) === uf.get(b));
      expect(new Set(uf.values()).size).toBe(4);
    } finally {
      await store.close();
    }
  });

  it('on a generated world, every person lies inside one union-find component (guards only split)', async () => {
    const data = tempDir('touchpoint-bench-world-');
    await generateDemo({ out: data, people: 150, seed: 7 });
    const file = join(data, 'bench.yaml');
    writeFileSync(file, readFileSync(resolve(import.meta.dirname, '../pipelines/demo.yaml'), 'utf8').replaceAll('../data/demo/', `${data}/`).replace(/^analytics:[\s\S]*$/m, ''));
    const db = tempDuckDB();
    dirs.push(db.dir);
    const store = await openStore({ url: db.url });
    try {
      const pipeline = loadPipeline(file, { env: {} });
      expect((await runPipeline(pipeline, { log, env: {}, only: 'extract', store })).status).toBe('succeeded');
      expect((await runPipeline(pipeline, { log, env: {}, only: 'identity', store })).status).toBe('succeeded');
      const { uf, persons } = await labelsOf(store);
      expect(persons.size).toBeGreaterThan(100);
      const componentOf = new Map<string, string>();
      for (const [key, person] of persons) {
        const seen = componentOf.get(person);
        if (seen === undefined) componentOf.set(person, uf.get(key)!);
        else expect(uf.get(key)).toBe(seen);
      }
      expect(componentOf.size).toBeGreaterThanOrEqual(new Set(componentOf.values()).size);
    } finally {
      await store.close();
    }
  });
});

describe('increment generator', () => {
  it('writes at least the asked events under new ids, the same bytes for the same seed', async () => {
    const a = tempDir('touchpoint-bench-inc-');
    const b = tempDir('touchpoint-bench-inc-');
    const one = await generateIncrement({ out: a, events: 500, seed: 43, start: '2025-04-01', file: 'events-increment-43.ndjson.gz' });
    const two = await generateIncrement({ out: b, events: 500, seed: 43, start: '2025-04-01', file: 'events-increment-43.ndjson.gz' });
    expect(one.events).toBeGreaterThanOrEqual(500);
    expect(readFileSync(one.path)).toEqual(readFileSync(two.path));
  });
});

// Issue #8 item 4: sources extract side by side (settings.concurrency); a slow one keeps one worker.
describe('concurrent extract', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const stream = defineStream<{ batches: number; pause: number }, JsonObject>({
    name: 'items',
    primaryKey: ['id'],
    schema: { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } },
    async *read(ctx) {
      for (let b = 0; b < ctx.config.batches; b++) {
        await sleep(ctx.config.pause);
        yield { records: [{ id: b }] };
      }
    },
    map: (r) => ({ events: [{ id: String(r.id), occurred_at: '2025-01-01T00:00:00Z', kind: 'touch', name: 'x' }] }),
  });
  const connector = defineConnector<{ batches: number; pause: number }>({
    name: 'sleepy',
    version: '1.0.0',
    description: 'records after a pause per batch (tests)',
    configSchema: { type: 'object' },
    streams: [stream],
  });

  async function finishOrder(concurrency: number): Promise<string[]> {
    const dir = tempDir('touchpoint-bench-conc-');
    const file = join(dir, 'p.yaml');
    const sources = { slow: { batches: 4, pause: 150 }, fast1: { batches: 1, pause: 0 }, fast2: { batches: 1, pause: 0 } };
    writeFileSync(file, `version: 1\nname: p\nsources:\n${Object.entries(sources).map(([name, c]) => `  - { name: ${name}, connector: sleepy, config: ${JSON.stringify(c)} }`).join('\n')}\n`);
    const pipeline = loadPipeline(file, { env: {} });
    const plan: PlannedStream[] = pipeline.config.sources.map((source) => ({ source, connector, stream }));
    const db = tempDuckDB();
    dirs.push(db.dir);
    const store = await openStore({ url: db.url });
    try {
      await store.migrate();
      await store.startRun({ run_id: 'r', pipeline: 'p' });
      const results = await extractAll(plan, { store, pipeline, runId: 'r', log, signal: new AbortController().signal, retry: DEFAULT_RETRY_POLICY }, concurrency);
      expect(results.every((r) => r.status === 'done')).toBe(true);
      const slow = results.find((r) => r.source === 'slow')!;
      for (const r of results) if (r.source !== 'slow' && concurrency > 1) expect(r.endedAt!).toBeLessThanOrEqual(slow.endedAt!);
      return results.map((r) => r.source);
    } finally {
      await store.close();
    }
  }

  it('finishes the fast sources while the slow one is still reading', async () => {
    expect(await finishOrder(2)).toEqual(['fast1', 'fast2', 'slow']);
  });

  it('runs them one after another with concurrency 1 (the setting is what allows overlap)', async () => {
    expect(await finishOrder(1)).toEqual(['slow', 'fast1', 'fast2']);
  });
});
