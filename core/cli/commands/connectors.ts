// `touchpoint connectors`: every installed connector plugin with its version, origin and streams.
import { ConnectorRegistry } from '../../engine/registry.ts';
import type { ConnectorDefinition } from '../../sdk/types.ts';
import type { Command } from '../command.ts';
import { table } from '../render.ts';

/** Stream names; config-dependent streams are listed when they do not need the config to exist. */
function streamNames(streams: ConnectorDefinition<any>['streams']): string {
  if (typeof streams !== 'function') return streams.map((s) => s.name).join(', ');
  try {
    const list = streams({});
    if (list.length > 0) return list.map((s) => s.name).join(', ');
  } catch {
    // The streams are declared by the user in the source's config (the file connector).
  }
  return '(declared in the pipeline config)';
}

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
        streams = streamNames(definition.streams);
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
