// A pipeline run end to end on both engines with a deterministic test connector: counts after one
// run and after a re-run, a crash mid-stream followed by a resume (no duplicates, no gaps),
// quarantine of invalid records, and a full refresh of one stream leaving another's state alone.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipeline } from '../core/config/pipeline.ts';
import { runPipeline } from '../core/engine/run.ts';
import { createLogger } from '../core/sdk/log.ts';
import { openStore } from '../core/store/index.ts';
import { describeEachEngine } from '../core/store/test-support.ts';

const PLUGIN = resolve(import.meta.dirname, 'fixtures/plugins/counter');
const log = createLogger({ secrets: [], level: 'error', write: () => {} });

function pipelineFile(sources: Record<string, Record<string, unknown>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'touchpoint-run-'));
  const file = join(dir, 'counter.yaml');
  const lines = ['version: 1', 'name: counter', `plugins: [${JSON.stringify(PLUGIN)}]`, 'sources:'];
  for (const [name, config] of Object.entries(sources)) {
    lines.push(`  - name: ${name}`, '    connector: counter', `    config: ${JSON.stringify(config)}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

async function ids(url: string, source: string): Promise<number[]> {
  const store = await openStore({ url });
  try {
    const rows = await store.knex(`raw_${source}_items`).select('_pk');
    return rows.map((r: { _pk: string }) => Number(r._pk)).sort((a, b) => a - b);
  } finally {
    await store.close();
  }
}

describeEachEngine('pipeline run', (engine) => {
  it('loads every record once, and a re-run adds nothing', async () => {
    const url = await engine.freshUrl();
    const file = pipelineFile({ a: { total: 120, batch: 25 } });
    const env = { TOUCHPOINT_DATABASE_URL: url };
    const first = await runPipeline(loadPipeline(file, { env }), { log, env });
    expect(first.status).toBe('succeeded');
    expect(first.streams[0].records).toBe(120);
    const second = await runPipeline(loadPipeline(file, { env }), { log, env });
    expect(second.status).toBe('succeeded');
    expect(second.streams[0].records).toBe(0);
    const store = await openStore({ url });
    const counts = await store.counts();
    const runs = await store.listRuns({ limit: 5 });
    await store.close();
    expect(counts.events).toBe(120);
    expect(counts.identifier_observations).toBe(120);
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(runs[1].rows['a/items']).toEqual({ records: 120, quarantined: 0 });
  });

  it('resumes after a crash mid-stream with no duplicates and no gaps', async () => {
    const url = await engine.freshUrl();
    const env = { TOUCHPOINT_DATABASE_URL: url };
    const crashing = pipelineFile({ a: { total: 100, batch: 10, fail_after_batches: 4 } });
    const failed = await runPipeline(loadPipeline(crashing, { env }), { log, env });
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('a/items');
    expect(failed.error).toContain('simulated crash');
    expect(await ids(url, 'a')).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));

    const healthy = pipelineFile({ a: { total: 100, batch: 10 } });
    const resumed = await runPipeline(loadPipeline(healthy, { env }), { log, env });
    expect(resumed.status).toBe('succeeded');
    expect(resumed.streams[0].records).toBe(60);
    expect(await ids(url, 'a')).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const store = await openStore({ url });
    const [{ n }] = await store.knex('events').count({ n: '*' });
    const runs = await store.listRuns();
    await store.close();
    expect(Number(n)).toBe(100);
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'failed']);
  });

  it('quarantines invalid records with source, stream and reason, and keeps the rest', async () => {
    const url = await engine.freshUrl();
    const env = { TOUCHPOINT_DATABASE_URL: url };
    const file = pipelineFile({ a: { total: 30, batch: 30, bad_every: 10 } });
    const result = await runPipeline(loadPipeline(file, { env }), { log, env });
    expect(result.status).toBe('succeeded');
    expect(result.streams[0]).toMatchObject({ records: 27, quarantined: 3 });
    const store = await openStore({ url });
    const rows = await store.knex('quarantine').select('source', 'stream', 'reason').orderBy('reason');
    await store.close();
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row).toMatchObject({ source: 'a', stream: 'items' });
      expect(row.reason).toMatch(/email.*must be string/);
    }
  });

  it('a full refresh of one stream re-reads it and leaves the other stream\'s state alone', async () => {
    const url = await engine.freshUrl();
    const env = { TOUCHPOINT_DATABASE_URL: url };
    const file = pipelineFile({ a: { total: 20, batch: 5 }, b: { total: 30, batch: 5 } });
    await runPipeline(loadPipeline(file, { env }), { log, env });
    const refresh = await runPipeline(loadPipeline(file, { env }), { log, env, fullRefresh: ['a/items'] });
    expect(refresh.status).toBe('succeeded');
    const byStream = Object.fromEntries(refresh.streams.map((s) => [`${s.source}/${s.stream}`, s.records]));
    expect(byStream).toEqual({ 'a/items': 20, 'b/items': 0 });
    const store = await openStore({ url });
    const states = await store.listState('counter');
    const counts = await store.counts();
    await store.close();
    expect(Object.fromEntries(states.map((s) => [s.source, s.state]))).toEqual({ a: { last: 20 }, b: { last: 30 } });
    expect(counts.events).toBe(50);
  });
});

describe('pipeline run errors', () => {
  it('an unknown stage is a config error naming the stages', async () => {
    const file = pipelineFile({ a: { total: 1, batch: 1 } });
    const env = { TOUCHPOINT_DATABASE_URL: 'duckdb://:memory:' };
    await expect(runPipeline(loadPipeline(file, { env }), { log, env, only: 'identiy' })).rejects.toThrow(/unknown stage "identiy"/);
  });
});
