// `touchpoint connectors`: every installed connector plugin with its version, origin and streams.
import { ConnectorRegistry } from '../../engine/registry.ts';
import type { Command } from '../command.ts';
import { table } from '../render.ts';

export const connectors: Command = {
  name: 'connectors',
  summary: 'list installed connector plugins with version and streams',
  usage: 'connectors',
  options: {},
  async run(_args, output) {
    const registry = new ConnectorRegistry({ cwd: process.cwd() });
    const rows = [];
    for (const { entry, definition, error } of await registry.loadAll()) {
      let streams = '';
      if (definition) {
        streams = typeof definition.streams === 'function' ? '(declared in the pipeline config)' : definition.streams.map((s) => s.name).join(', ');
      }
      rows.push({
        connector: entry.name,
        version: definition?.version ?? '',
        origin: entry.origin,
        streams: error ? `failed to load: ${error.message.split('\n')[0]}` : streams,
        description: definition?.description ?? '',
      });
    }
    if (output.json) output.data(rows);
    else output.out(table(rows, ['connector', 'version', 'origin', 'streams']));
    return rows.some((r) => r.streams.startsWith('failed to load')) ? 1 : 0;
  },
};
