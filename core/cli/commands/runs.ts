// `touchpoint runs [--limit N]`: the run ledger, newest first.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { storeUrlFor } from '../../engine/run.ts';
import { openStore } from '../../store/index.ts';
import type { RunRecord } from '../../store/types.ts';
import type { Command } from '../command.ts';
import { table } from '../render.ts';
import { loadAndCheck } from './validate.ts';
import { ConfigError } from '../../errors.ts';

/** The stores to read: the pipeline's, TOUCHPOINT_DATABASE_URL, or every .touchpoint/*.duckdb here. */
async function storeUrls(pipelineFile: string | undefined): Promise<string[]> {
  if (pipelineFile) return [storeUrlFor(await loadAndCheck(pipelineFile))];
  if (process.env.TOUCHPOINT_DATABASE_URL) return [process.env.TOUCHPOINT_DATABASE_URL];
  const dir = join(process.cwd(), '.touchpoint');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.duckdb')).sort().map((f) => `duckdb://.touchpoint/${f}`);
}

export const runs: Command = {
  name: 'runs',
  summary: 'show the run ledger (newest first)',
  usage: 'runs [--limit N] [--pipeline <file>]',
  options: {
    limit: { type: 'string', value: 'N', description: 'how many runs (default 20)' },
    pipeline: { type: 'string', value: 'file', description: 'only this pipeline\'s store and runs' },
  },
  async run({ values }, output) {
    const limit = values.limit === undefined ? 20 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new ConfigError(`--limit must be a positive whole number (got ${JSON.stringify(values.limit)})`);
    const all: RunRecord[] = [];
    for (const url of await storeUrls(values.pipeline as string | undefined)) {
      const store = await openStore({ url, readOnly: true, baseDir: process.cwd() });
      try {
        all.push(...(await store.listRuns({ limit })));
      } finally {
        await store.close();
      }
    }
    all.sort((a, b) => String(b.started_at).localeCompare(String(a.started_at)) || b.run_id.localeCompare(a.run_id));
    const rows = all.slice(0, limit);
    if (output.json) output.data(rows);
    else {
      output.out(
        table(
          rows.map((r) => {
            const counts = Object.values(r.rows ?? {});
            return {
              run_id: r.run_id,
              pipeline: r.pipeline,
              status: r.status,
              started_at: r.started_at,
              seconds: r.ended_at ? Math.round((new Date(r.ended_at).getTime() - new Date(r.started_at).getTime()) / 100) / 10 : null,
              records: counts.reduce((n, c) => n + c.records, 0),
              quarantined: counts.reduce((n, c) => n + c.quarantined, 0),
              error: r.error ? r.error.split('\n')[0].slice(0, 80) : '',
            };
          }),
        ),
      );
    }
    return 0;
  },
};
