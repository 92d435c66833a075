// Loads a pipeline file (pipelines/*.yaml) into the LoadedPipeline the engine runs, and checks each
// source's `config:` against its connector's own schema. pipeline.schema.json is the single source of
// the file's shape: this validator and docs/pipeline.md are both generated from it.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import type { JsonSchema } from '../sdk/types.ts';
import { closest, formatPath, sortDiagnostics, type JsonPath } from './diagnostics.ts';
import { hasEnvRef, type Env } from './env.ts';
import { loadYamlConfig } from './load.ts';
import type { Diagnostic, LoadedPipeline, PipelineConfig } from './types.ts';
import { validateWithSchema } from './validate.ts';
import type { Locate, YamlSource } from './yaml.ts';

export const PIPELINE_SCHEMA_FILE = new URL('./pipeline.schema.json', import.meta.url);
export const pipelineSchema = JSON.parse(readFileSync(PIPELINE_SCHEMA_FILE, 'utf8')) as JsonSchema;

export interface LoadPipelineOptions {
  /** Where `${env:NAME}` values come from (default process.env); `.env` files fill in what it lacks. */
  env?: Env;
  /** Relative paths start here, and its `.env` is read too (default process.cwd()). */
  cwd?: string;
}

/**
 * Reads, validates and resolves a pipeline file. Throws ConfigError when the file cannot be read, and
 * ConfigErrors with every problem (sorted by position) when it is invalid or a variable is missing.
 */
export function loadPipeline(file: string, { env = process.env, cwd = process.cwd() }: LoadPipelineOptions = {}): LoadedPipeline {
  const loaded = loadYamlConfig<PipelineConfig>(file, pipelineSchema, {
    env,
    cwd,
    check: checkSourceNames,
    // A disabled source may well lack its credentials on this machine: that is not an error.
    optionalEnv: (value, path) => sourceAt(value, path)?.enabled === false,
  });
  const config = loaded.value;
  for (const source of config.sources) source.config ??= {};
  return {
    file,
    dir: loaded.dir,
    config,
    secrets: loaded.secrets,
    locate: (path, part) => loaded.source.locate(path, part),
    source: loaded.source,
  };
}

/** Source names must be unique (they name raw tables); JSON Schema can only compare whole items. */
export function checkSourceNames(value: unknown, source: YamlSource): Diagnostic[] {
  const sources = isObject(value) && Array.isArray(value.sources) ? value.sources : [];
  const firstIndex = new Map<string, number>();
  const diagnostics: Diagnostic[] = [];
  sources.forEach((item, i) => {
    if (!isObject(item) || typeof item.name !== 'string') return;
    const earlier = firstIndex.get(item.name);
    if (earlier === undefined) {
      firstIndex.set(item.name, i);
      return;
    }
    const path = ['sources', i, 'name'];
    diagnostics.push({
      file: source.file,
      ...source.position(path),
      path: formatPath(path),
      message: `duplicate source name "${item.name}" (sources[${earlier}] on line ${source.position(['sources', earlier, 'name']).line} has it too)`,
      hint: 'give each source its own name: it names the raw tables (raw_<name>_<stream>) and event ids',
    });
  });
  return diagnostics;
}

/**
 * Checks each enabled source's `config:` against its connector's config schema (paths prefixed
 * `sources[i].config`), and that each connector exists. `knownConnectors` are the installed names, for
 * suggestions; a known connector without a schema is not checked. A secret field (`"x-secret": true`)
 * written literally instead of as `${env:…}` is an error.
 */
export function validateSourceConfigs(
  loaded: LoadedPipeline,
  getConnectorSchema: (connector: string) => JsonSchema | undefined,
  knownConnectors: readonly string[],
): Diagnostic[] {
  const { file } = loaded;
  const position = loaded.source?.position ?? positionFrom(loaded.locate);
  const written = loaded.source?.value;
  const diagnostics: Diagnostic[] = [];
  loaded.config.sources.forEach((source, i) => {
    if (source.enabled === false) return;
    const connectorPath = ['sources', i, 'connector'];
    const schema = getConnectorSchema(source.connector);
    if (schema === undefined) {
      if (knownConnectors.includes(source.connector)) return;
      const suggestion = closest(source.connector, knownConnectors);
      diagnostics.push({
        file,
        ...position(connectorPath),
        path: formatPath(connectorPath),
        message: `unknown connector "${source.connector}"`,
        hint: suggestion
          ? `did you mean "${suggestion}"?`
          : `installed connectors: ${knownConnectors.join(', ') || 'none'}; list the folder of a connector of your own under plugins:`,
      });
      return;
    }
    try {
      diagnostics.push(
        ...validateWithSchema(schema, source.config ?? {}, {
          file,
          locate: position,
          basePath: ['sources', i, 'config'],
          // Without the written document (a hand-built LoadedPipeline) literal secrets cannot be told apart.
          fromEnv: written === undefined ? undefined : (path) => isEnvRef(valueAt(written, path)),
          envPrefix: source.connector,
          secrets: loaded.secrets,
        }),
      );
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      diagnostics.push({
        file,
        ...position(connectorPath),
        path: formatPath(connectorPath),
        message: `connector "${source.connector}" has an invalid config schema: ${error.message}`,
        hint: 'this is a bug in the connector, not in your file: report it to the connector\'s author',
      });
    }
  });
  return sortDiagnostics(diagnostics);
}

function isEnvRef(value: unknown): boolean {
  return typeof value === 'string' && hasEnvRef(value);
}

function sourceAt(value: unknown, path: JsonPath): Record<string, unknown> | undefined {
  if (path[0] !== 'sources' || typeof path[1] !== 'number' || !isObject(value) || !Array.isArray(value.sources)) return undefined;
  const source: unknown = value.sources[path[1]];
  return isObject(source) ? source : undefined;
}

function valueAt(root: unknown, path: JsonPath): unknown {
  let node = root;
  for (const segment of path) node = isObject(node) || Array.isArray(node) ? (node as Record<string | number, unknown>)[segment] : undefined;
  return node;
}

/** Positions from a `file:line:col` locate function (a LoadedPipeline built without its source). */
function positionFrom(locate: LoadedPipeline['locate']): Locate {
  return (path, part) => {
    const match = /:(\d+):(\d+)$/.exec(locate(path, part));
    return match ? { line: Number(match[1]), col: Number(match[2]) } : { line: 1, col: 1 };
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
