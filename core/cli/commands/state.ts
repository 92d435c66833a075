// `touchpoint state <pipeline> [--reset <stream>]`: show each stream's saved incremental state, or
// forget one stream's (the next run reads it from the start; other streams are untouched).
import { ConfigError } from '../../errors.ts';
import { storeUrlFor } from '../../engine/run.ts';
import { openStore } from '../../store/index.ts';
import type { Command } from '../command.ts';
import { table } from '../render.ts';
import { loadAndCheck } from './validate.ts';

export const state: Command = {
  name: 'state',
  summary: 'show or reset the incremental state of a pipeline\'s streams',
  usage: 'state <pipeline> [--reset <source/stream | source>]',
  options: {
    reset: { type: 'string', value: 'source/stream', description: 'forget the state of one stream (or every stream of a source)' },
  },
  async run({ values, positionals }, output) {
    const [file] = positionals;
    if (!file) throw new ConfigError('state needs a pipeline file', { hint: 'touchpoint state pipelines/demo.yaml' });
    const pipeline = await loadAndCheck(file);
    output.secrets.push(...pipeline.secrets);
    const reset = values.reset as string | undefined;
    const store = await openStore({ url: storeUrlFor(pipeline), readOnly: !reset, baseDir: process.cwd() });
    try {
      if (reset) {
        const [source, stream] = reset.split('/');
        if (!pipeline.config.sources.some((s) => s.name === source)) {
          throw new ConfigError(`pipeline ${pipeline.config.name} has no source "${source}"`, {
            hint: `sources: ${pipeline.config.sources.map((s) => s.name).join(', ')}`,
          });
        }
        await store.migrate();
        const n = await store.resetState(pipeline.config.name, source, stream);
        if (output.json) output.data({ reset, streams: n });
        else output.out(`reset ${n} stream state${n === 1 ? '' : 's'} for ${reset}`);
        return 0;
      }
      const rows = await store.listState(pipeline.config.name);
      if (output.json) output.data(rows);
      else {
        output.out(table(rows.map((r) => ({ stream: `${r.source}/${r.stream}`, updated_at: r.updated_at, run_id: r.run_id, state: JSON.stringify(r.state) }))));
      }
      return 0;
    } finally {
      await store.close();
    }
  },
};
