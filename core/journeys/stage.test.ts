// The journeys stage inside pipeline runs, on both engines: registered after identity, `run --only
// journeys` on what earlier runs stored, a full refresh of the streams giving the same journeys, a
// re-run rebuilding nobody, `--full-refresh` rebuilding everything, and the `journeys:` section
// validated with positions.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipeline } from '../config/pipeline.ts';
import { runPipeline } from '../engine/run.ts';
import { stageNames } from '../engine/stages.ts';
import { createLogger } from '../sdk/log.ts';
import { openStore } from '../store/index.ts';
import { describeEachEngine } from '../store/test-support.ts';
import { snapshot } from './test-support.ts';

const PLUGIN = resolve(import.meta.dirname, '../../test/fixtures/plugins/counter');
const log = createLogger({ secrets: [], level: 'error', write: () => {} });

function pipelineFile(journeys: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'touchpoint-journeys-'));
  const file = join(dir, 'counter.yaml');
  const lines = ['version: 1', 'name: counter', `plugins: [${JSON.stringify(PLUGIN)}]`, 'sources:', '  - name: a', '    connector: counter', '    config: { total: 120, batch: 50 }', ...journeys];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('journeys stage', () => {
  it('runs after identity', () => {
    const names = stageNames();
    expect(names).toContain('journeys');
    if (names.includes('identity')) expect(names.indexOf('journeys')).toBeGreaterThan(names.indexOf('identity'));
  });

  it('reports a wrong journeys: section at its line, with the key', () => {
    const file = pipelineFile(['journeys:', '  lookback_days: 0', '  stages:', '    - { stage: decision, evnts: [call] }']);
    expect(() => loadPipeline(file, { env: {} })).toThrow(/counter\.yaml:9:18 journeys\.lookback_days: must be at least 1[\s\S]*journeys\.stages\[0\]: unknown key "evnts"/);
  });
});

describeEachEngine('journeys stage in a pipeline run', (engine) => {
  it('run --only journeys builds from what is stored; a full refresh gives the same journeys; a re-run rebuilds nobody', async () => {
    const url = await engine.freshUrl();
    const env = { TOUCHPOINT_DATABASE_URL: url };
    const pipeline = loadPipeline(pipelineFile(['journeys:', '  lookback_days: 30', '  session_timeout_minutes: 20']), { env });
    const extracted = await runPipeline(pipeline, { log, env, only: 'extract' });
    expect(extracted.status).toBe('succeeded');

    // The identity stage's output, as it would be: the counter's 50 emails, one person each.
    const store = await openStore({ url });
    try {
      await store.knex('persons').insert(Array.from({ length: 50 }, (_, n) => ({ person_id: `P${n}`, identifier_count: 1 })));
      await store.knex('identity_map').insert(Array.from({ length: 50 }, (_, n) => ({ identifier_type: 'email', identifier_value: `p${n}@example.com`, person_id: `P${n}` })));

      const first = await runPipeline(pipeline, { log, env, only: 'journeys', store });
      expect(first.status).toBe('succeeded');
      expect(first.stages).toEqual([
        expect.objectContaining({ name: 'journeys', status: 'done', summary: { mode: 'full', persons_rebuilt: 50, journeys: 0, open_journeys: 50, touchpoints: 120, events_without_person: 0 } }),
      ]);
      const built = await snapshot(store);
      // Events 50 minutes apart per person: each its own session.
      expect(built.journeys.find((j) => j.person_id === 'P1')).toMatchObject({ journey_id: 'P1:1', status: 'open', touch_count: 3, session_count: 3 });

      const refreshed = await runPipeline(pipeline, { log, env, only: 'extract', fullRefresh: true, store });
      expect(refreshed.streams[0].records).toBe(120);
      const rebuilt = await runPipeline(pipeline, { log, env, only: 'journeys', store });
      // Every event was re-loaded, so every person is rebuilt (as one full build).
      expect(rebuilt.stages[0].summary).toMatchObject({ mode: 'full', persons_rebuilt: 50 });
      expect(await snapshot(store)).toEqual(built);

      const again = await runPipeline(pipeline, { log, env, only: 'journeys', store });
      expect(again.stages[0].summary).toMatchObject({ mode: 'incremental', persons_rebuilt: 0, open_journeys: 50, touchpoints: 120 });
      expect(await snapshot(store)).toEqual(built);

      // --full-refresh rebuilds every journey even when nothing was re-read.
      const forced = await runPipeline(pipeline, { log, env, only: 'journeys', fullRefresh: true, store });
      expect(forced.stages[0].summary).toMatchObject({ mode: 'full', persons_rebuilt: 50 });
      expect(await snapshot(store)).toEqual(built);
    } finally {
      await store.close();
    }
  });
});
