// The one way a YAML config file (a pipeline, later a report) is loaded: read → parse with positions →
// load .env → validate against its schema → file-specific checks → resolve `${env:…}`. Every problem
// found on the way is collected, so the user sees all of them at once, sorted by position, in one
// ConfigErrors; a file that cannot be read or parsed stops earlier, because nothing after that is reliable.
import { dirname, resolve } from 'node:path';
import type { JsonSchema } from '../sdk/types.ts';
import { diagnosticsError, type JsonPath } from './diagnostics.ts';
import { loadDotEnv, resolveEnvRefs, type Env } from './env.ts';
import type { Diagnostic } from './types.ts';
import { validateWithSchema } from './validate.ts';
import { readYamlFile, type YamlSource } from './yaml.ts';

export interface LoadYamlOptions {
  /** Where `${env:…}` values come from; `.env` files fill in what it lacks (default process.env). */
  env?: Env;
  /** Relative file paths start here; its `.env` is read too (default process.cwd()). */
  cwd?: string;
  /**
   * Rules a schema cannot express (unique names across a list…), run on the unresolved value even when
   * the schema failed (so all problems show at once): it must tolerate any shape.
   */
  check?: (value: unknown, source: YamlSource) => Diagnostic[];
  /** Paths where a missing variable is not an error (e.g. a disabled source). */
  optionalEnv?: (value: unknown, path: JsonPath) => boolean;
}

export interface LoadedYaml<T> {
  /** The path as the user gave it. */
  file: string;
  /** Absolute folder of the file. */
  dir: string;
  /** The value with `${env:…}` resolved. */
  value: T;
  secrets: string[];
  /** The document as written, with positions. */
  source: YamlSource;
}

/** Loads and checks one YAML file; throws ConfigError (unreadable) or ConfigErrors (everything else). */
export function loadYamlConfig<T>(file: string, schema: JsonSchema, options: LoadYamlOptions = {}): LoadedYaml<T> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const absolute = resolve(cwd, file);
  const dir = dirname(absolute);
  const source = readYamlFile(file, absolute);

  // The pipeline's own folder first: it is the more specific one, and neither overrides what is set.
  const diagnostics: Diagnostic[] = [];
  const dotEnvDirs = new Map([[dir, dirname(file)], [resolve(cwd), '.']]);
  for (const [folder, label] of dotEnvDirs) diagnostics.push(...loadDotEnv(folder, { env, label }).diagnostics);

  diagnostics.push(...validateWithSchema(schema, source.value, { file, locate: source.position }));
  if (options.check) diagnostics.push(...options.check(source.value, source));

  const resolved = resolveEnvRefs(source.value, {
    env,
    file,
    locate: source.position,
    optional: options.optionalEnv && ((path) => options.optionalEnv!(source.value, path)),
  });
  diagnostics.push(...resolved.diagnostics);

  if (diagnostics.length > 0) throw diagnosticsError(diagnostics);
  return { file, dir, value: resolved.value as T, secrets: resolved.secrets, source };
}
