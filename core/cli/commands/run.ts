// `touchpoint run <pipeline>`: extract → load → identity → journeys → analytics, with progress, a
// run ledger entry, and Ctrl-C that stops after the batch in flight (state stays consistent).
import { ConfigError } from '../../errors.ts';
import { planStreams, registryFor, runPipeline, storeUrlFor } from '../../engine/run.ts';
import { isFullRefresh } from '../../engine/extract.ts';
import { stageNames } from '../../engine/stages.ts';
import { formatMs } from '../../engine/progress.ts';
import { createLogger } from '../../sdk/log.ts';
import { openStore } from '../../store/index.ts';
import type { Command } from '../command.ts';
import { progressRenderer, table } from '../render.ts';
import { loadAndCheck } from './validate.ts';

export const run: Command = {
  name: 'run',
  summary: 'run a pipeline (all stages, or one with --only)',
  usage: 'run <pipeline> [--only <stage>] [--full-refresh [stream…]] [--dry-run]',
  details: [
    'A full refresh re-reads the named streams (source/stream, a stream name or a source name) from',
    'scratch and leaves every other stream\'s state alone; with no names it refreshes all streams.',
    '',
    'Examples:',
    '  touchpoint run pipelines/demo.yaml',
    '  touchpoint run pipelines/demo.yaml --full-refresh crm/contacts',
    '  touchpoint run pipelines/demo.yaml --only extract --dry-run',
  ].join('\n'),
  options: {
    only: { type: 'string', value: 'stage', description: `run one stage: ${stageNames().join(', ')}` },
    'full-refresh': { type: 'boolean', description: 'ignore saved state for the streams named after the pipeline (all if none)' },
    'dry-run': { type: 'boolean', description: 'show what would run (store, streams, state) without running' },
  },
  async run({ values, positionals }, output) {
    const [file, ...streams] = positionals;
    if (!file) throw new ConfigError('run needs a pipeline file', { hint: 'touchpoint run pipelines/demo.yaml' });
    if (streams.length > 0 && !values['full-refresh']) {
      throw new ConfigError(`unexpected argument "${streams[0]}"`, { hint: 'stream names go after --full-refresh' });
    }
    const pipeline = await loadAndCheck(file);
    output.secrets.push(...pipeline.secrets);
    const fullRefresh = values['full-refresh'] ? (streams.length > 0 ? streams : true) : false;
    const only = values.only as string | undefined;
    if (only && !stageNames().includes(only)) throw new ConfigError(`unknown stage "${only}"`, { hint: `stages: ${stageNames().join(', ')}` });

    if (values['dry-run']) {
      const registry = registryFor(pipeline);
      const plan = !only || only === 'extract' ? await planStreams(pipeline, registry) : [];
      const url = storeUrlFor(pipeline);
      let states = new Map<string, unknown>();
      try {
        const store = await openStore({ url, readOnly: true, baseDir: process.cwd() });
        try {
          states = new Map((await store.listState(pipeline.config.name)).map((s) => [`${s.source}/${s.stream}`, s.state]));
        } finally {
          await store.close();
        }
      } catch {
        // A store that does not exist yet has no state: that is what a first run looks like.
      }
      const rows = plan.map((p) => {
        const key = `${p.source.name}/${p.stream.name}`;
        const refresh = isFullRefresh(fullRefresh, p.source.name, p.stream.name);
        return { stream: key, connector: `${p.connector.name}@${p.connector.version}`, mode: refresh ? 'full refresh' : states.has(key) ? 'incremental' : 'first run', state: refresh ? null : (states.get(key) ?? null) };
      });
      const stagesToRun = only ? [only] : stageNames();
      if (output.json) output.data({ pipeline: pipeline.config.name, store: redactUrl(url), stages: stagesToRun, streams: rows, config: pipeline.config });
      else {
        output.out(`pipeline ${pipeline.config.name}  store ${redactUrl(url)}`);
        output.out(`stages: ${stagesToRun.join(' → ')}`);
        output.out(table(rows.map((r) => ({ ...r, state: r.state ? JSON.stringify(r.state).slice(0, 60) : '' }))));
        output.out('(dry run: nothing was read or written)');
      }
      return 0;
    }

    const controller = new AbortController();
    const onSignal = (): void => {
      if (controller.signal.aborted) process.exit(130);
      output.err('stopping after the batch in flight (Ctrl-C again to quit at once)…');
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const progress = progressRenderer(output);
    const log = createLogger({ secrets: pipeline.secrets, level: values.verbose ? 'debug' : output.json ? 'error' : 'warn', format: 'text' });
    try {
      const result = await runPipeline(pipeline, { log, fullRefresh, only, signal: controller.signal, progress });
      progress.stop();
      if (output.json) output.data(result);
      else {
        for (const s of result.stages) {
          const summary = s.summary ? ` ${Object.entries(s.summary).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' ')}` : '';
          output.err(`${s.name.padEnd(10)} ${s.status.padEnd(8)} ${formatMs(s.ms).padStart(6)}${summary}`);
        }
        if (result.error) output.err(result.error);
        output.out(`run ${result.runId} ${result.status} (store ${result.store})`);
      }
      return result.status === 'succeeded' ? 0 : 1;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
}
