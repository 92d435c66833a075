// Loads a declarative connector (`connector.yaml`): validated against declarative.schema.json (the
// file connector's column and mapping $defs merged in, so both speak one mapping language) through
// the same loader as pipelines — every problem at file:line:col — then compiled into an ordinary
// ConnectorDefinition whose streams run on stream.ts. The engine cannot tell it from a TS plugin.
import { readFileSync } from 'node:fs';
import type { Diagnostic } from '../../config/types.ts';
import { loadYamlConfig } from '../../config/load.ts';
import type { YamlSource } from '../../config/yaml.ts';
import { ConfigError } from '../../errors.ts';
import type { ConnectorDefinition, JsonObject, JsonSchema } from '../types.ts';
import { restStream } from './stream.ts';
import type { RestConnectorSpec } from './stream.ts';

let merged: JsonSchema | undefined;

/** declarative.schema.json with the file connector's column/mapping $defs (theirs never override ours). */
export function declarativeSchema(): JsonSchema {
  if (merged) return merged;
  const own = JSON.parse(readFileSync(new URL('./declarative.schema.json', import.meta.url), 'utf8')) as JsonSchema & { $defs: JsonObject };
  const file = JSON.parse(readFileSync(new URL('../../../connectors/file/config.schema.json', import.meta.url), 'utf8')) as { $defs: JsonObject };
  const { stream: _stream, ga4: _ga4, ...shared } = file.$defs;
  merged = { ...own, $defs: { ...shared, ...own.$defs } };
  return merged;
}

/** Rules the schema cannot say, positioned like schema errors. */
function check(value: unknown, source: YamlSource, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const spec = value as Partial<RestConnectorSpec> | undefined;
  const at = (path: (string | number)[], message: string, hint?: string) => {
    const { line, col } = source.position(path, 'key');
    out.push({ file, line, col, path: path.join('.').replace(/\.(\d+)/g, '[$1]'), message, hint });
  };
  if (!Array.isArray(spec?.streams)) return out;
  const names = new Set<string>();
  spec.streams.forEach((s, i) => {
    if (!s || typeof s !== 'object') return;
    if (names.has(s.name)) at(['streams', i, 'name'], `stream ${s.name} is declared twice`);
    names.add(s.name);
    const columns = s.columns && typeof s.columns === 'object' ? Object.keys(s.columns) : [];
    for (const [k, key] of (s.primary_key ?? []).entries()) {
      if (!columns.includes(key)) at(['streams', i, 'primary_key', k], `primary key ${key} is not a declared column`, `declared columns: ${columns.join(', ')}`);
    }
    if (s.incremental && !columns.includes(s.incremental.cursor_field)) {
      at(['streams', i, 'incremental', 'cursor_field'], `cursor_field ${s.incremental.cursor_field} is not a declared column`, `declared columns: ${columns.join(', ')}`);
    }
    const p = s.pagination;
    if (p?.type === 'cursor' && !p.next_url_path && !(p.cursor_path && p.cursor_param)) {
      at(['streams', i, 'pagination'], 'cursor pagination needs next_url_path, or cursor_path with cursor_param', 'next_url_path: links.next  — or —  cursor_path: meta.after_cursor, cursor_param: page[after]');
    }
  });
  return out;
}

export function loadDeclarativeConnector(file: string): ConnectorDefinition<JsonObject> {
  // No environment: a connector file describes an API; credentials come from the pipeline's config.
  const { value: spec } = loadYamlConfig<RestConnectorSpec>(file, declarativeSchema(), { env: {}, check: (v, s) => check(v, s, file) });
  // Not strict: an unset value renders as '' here; each read renders strictly with its own config.
  const build = (config: JsonObject) =>
    spec.streams.map((s, i) => {
      try {
        return restStream(spec, s, { config, schema: spec.config, connector: spec.name, strict: false }, `streams[${i}] (${s.name})`);
      } catch (error) {
        if (error instanceof ConfigError && !error.where) throw new ConfigError(error.message, { where: file, hint: error.hint, cause: error });
        throw error;
      }
    });
  // Compile once now: a column or mapping mistake fails at load, naming the file.
  build({});
  return {
    name: spec.name,
    version: spec.version,
    sdkVersion: spec.sdk_version,
    description: spec.description,
    configSchema: spec.config,
    streams: (config: JsonObject) => build(config ?? {}),
  };
}
