// The pipeline as the engine sees it after parsing, validation and secret resolution.
// The JSON Schema in pipeline.schema.json is the one source of truth for the YAML shape; this file
// mirrors it in types.
import type { JsonObject } from '../sdk/types.ts';
import type { YamlSource } from './yaml.ts';

export interface SourceConfig {
  /** Unique within the pipeline; names raw tables (`raw_<name>_<stream>`) and event ids. */
  name: string;
  /** A built-in connector (connectors/<name>), a `touchpoint-connector-<name>` package, or a plugin path's name. */
  connector: string;
  /** Validated against the connector's own configSchema. Secrets resolved from `${env:NAME}`. */
  config: JsonObject;
  /** Only these streams (default: all the connector offers). */
  streams?: string[];
  /** false: skip this source without deleting it. */
  enabled?: boolean;
}

export interface PipelineSettings {
  /** Sources extracted at once (default 2). */
  concurrency?: number;
  /** Records per batch written to the store (default 5000). */
  batchSize?: number;
  /** Earliest date incremental streams start from on a first run (YYYY-MM-DD). */
  startDate?: string;
  retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number; timeoutMs?: number };
}

export interface PipelineConfig {
  version: 1;
  name: string;
  description?: string;
  /** Store URL (`duckdb://…`, `postgres://…`); TOUCHPOINT_DATABASE_URL wins. Default: duckdb://.touchpoint/<name>.duckdb */
  store?: string;
  /** Extra connector plugin folders or files, relative to the pipeline file. */
  plugins?: string[];
  settings?: PipelineSettings;
  sources: SourceConfig[];
  /** Sections owned by later stages (identity, journeys, analytics): validated by their own schemas. */
  identity?: JsonObject;
  journeys?: JsonObject;
  analytics?: JsonObject;
}

/** A pipeline file after loading: the config, where it came from, and the secret values to redact. */
export interface LoadedPipeline {
  /** The path as the user gave it (used in messages). */
  file: string;
  /** Absolute folder of the file: relative paths in the pipeline resolve against it. */
  dir: string;
  config: PipelineConfig;
  /** Every value that came from `${env:…}`: redacted from logs, errors, --dry-run and --json. */
  secrets: string[];
  /**
   * Maps a path like `['sources', 1, 'config', 'token']` to `file:line:col` (for later errors): the
   * value's position, or the key's with part `'key'`; a path that does not exist gives its nearest ancestor.
   */
  locate(path: readonly (string | number)[], part?: 'key' | 'value'): string;
  /**
   * The document as written (before `${env:…}` resolution) with positions: lets later checks point at
   * lines and tell a literal from an environment reference. Absent when a LoadedPipeline is built by hand.
   */
  source?: YamlSource;
}

export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  /** The user's key path, e.g. `sources[1].config.token`. */
  path: string;
  message: string;
  hint?: string;
}
