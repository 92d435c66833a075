// `touchpoint validate <file>…`: parse, check against the schema, check each source's config against
// its connector's own schema, and resolve secrets — all errors at once, each at file:line:col.
import { loadPipeline, validateSourceConfigs } from '../../config/pipeline.ts';
import { diagnosticsError } from '../../config/diagnostics.ts';
import type { Diagnostic, LoadedPipeline } from '../../config/types.ts';
import { ConfigError, ConfigErrors } from '../../errors.ts';
import { registryFor } from '../../engine/run.ts';
import type { JsonSchema } from '../../sdk/types.ts';
import type { Command } from '../command.ts';

interface FileResult {
  file: string;
  ok: boolean;
  sources?: number;
  errors: ConfigError[];
}

/** Loads a pipeline and checks every source's config against its connector; throws ConfigErrors. */
export async function loadAndCheck(file: string): Promise<LoadedPipeline> {
  const loaded = loadPipeline(file);
  const registry = registryFor(loaded);
  const schemas = new Map<string, JsonSchema | undefined>();
  for (const s of loaded.config.sources) {
    if (!schemas.has(s.connector)) schemas.set(s.connector, registry.has(s.connector) ? await registry.configSchema(s.connector) : undefined);
  }
  const diagnostics: Diagnostic[] = validateSourceConfigs(loaded, (c) => schemas.get(c), registry.names());
  if (diagnostics.length > 0) {
    throw diagnosticsError(diagnostics);
  }
  return loaded;
}

function errorsOf(error: unknown): FileResult['errors'] {
  if (error instanceof ConfigErrors) return error.errors;
  if (error instanceof ConfigError) return [error];
  throw error;
}

export const validate: Command = {
  name: 'validate',
  summary: 'check pipeline files: schema, connector configs, secrets',
  usage: 'validate <file>…',
  details: 'Example:\n  touchpoint validate pipelines/*.yaml',
  options: {},
  async run({ positionals }, output) {
    if (positionals.length === 0) throw new ConfigError('validate needs at least one file', { hint: 'touchpoint validate pipelines/demo.yaml' });
    const results: FileResult[] = [];
    for (const file of positionals) {
      try {
        const loaded = await loadAndCheck(file);
        output.secrets.push(...loaded.secrets);
        results.push({ file, ok: true, sources: loaded.config.sources.length, errors: [] });
      } catch (error) {
        results.push({ file, ok: false, errors: errorsOf(error) });
      }
    }
    if (output.json) {
      output.data(results.map((r) => ({ ...r, errors: r.errors.map((e) => ({ where: e.where, message: e.message, hint: e.hint })) })));
    }
    else {
      for (const r of results) {
        if (r.ok) {
          if (!output.quiet) output.out(`${r.file}: ok (${r.sources} source${r.sources === 1 ? '' : 's'})`);
        } else {
          for (const e of r.errors) output.err(e.format());
        }
      }
    }
    return results.every((r) => r.ok) ? 0 : 2;
  },
};
