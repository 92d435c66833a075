import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../sdk/types.ts';
import { PIPELINE_DOCS_FILE, renderPipelineDocs } from './gen-docs.ts';
import { pipelineSchema } from './pipeline.ts';
import { renderSchemaMarkdown } from './schema-doc.ts';

function resolveRef(s: JsonSchema): JsonSchema {
  return typeof s.$ref === 'string' ? ((pipelineSchema.$defs as Record<string, JsonSchema>)[s.$ref.replace('#/$defs/', '')] ?? s) : s;
}

/** Every schema under `properties` and `items`, by path, through local $refs. */
function propertySchemas(schema: JsonSchema, path = ''): [string, JsonSchema][] {
  const out: [string, JsonSchema][] = [];
  for (const [key, child] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
    const resolved = resolveRef(child);
    out.push([`${path}${key}`, resolved], ...propertySchemas(resolved, `${path}${key}.`));
    if (resolved.items) {
      const items = resolveRef(resolved.items as JsonSchema);
      out.push([`${path}${key}[]`, items], ...propertySchemas(items, `${path}${key}[].`));
    }
  }
  return out;
}

describe('pipeline.schema.json', () => {
  it('describes every property (docs are generated from the descriptions)', () => {
    const missing = propertySchemas(pipelineSchema).filter(([, s]) => typeof s.description !== 'string' || s.description.length < 10);
    expect(missing.map(([path]) => path)).toEqual([]);
  });

  it('closes every object except the sections later stages own, connector configs and maps keyed by identifier type', () => {
    const open = propertySchemas(pipelineSchema).filter(([, s]) => s.type === 'object' && s.additionalProperties !== false);
    expect(open.map(([path]) => path)).toEqual(['sources[].config', 'identity.max_per_person', 'analytics.fx.rates']);
  });
});

describe('docs/pipeline.md', () => {
  it('is up to date with the schema (run node core/config/gen-docs.ts)', () => {
    expect(readFileSync(PIPELINE_DOCS_FILE, 'utf8')).toBe(renderPipelineDocs());
  });
});

describe('renderSchemaMarkdown', () => {
  it('renders types, required, defaults, enums, limits, secrets and nested paths', () => {
    const md = renderSchemaMarkdown({
      title: 'HubSpot config',
      description: 'Reads contacts and deals.',
      type: 'object',
      required: ['token'],
      properties: {
        token: { type: 'string', 'x-secret': true, description: 'Private app token.' },
        region: { enum: ['eu1', 'na1'], default: 'na1', description: 'Data centre.' },
        objects: { type: 'array', items: { $ref: '#/$defs/object' }, description: 'What to read.' },
      },
      $defs: { object: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 100, description: 'Page size.' } } } },
    });
    expect(md).toContain('| `token` | string | yes |  |');
    expect(md).toContain('| `region` | `eu1` \\| `na1` |  | `na1` |');
    expect(md).toContain('| `objects[].limit` | integer |  |  |');
    expect(md).toContain('*Type: string · required · **secret**: give it as `${env:NAME}`*');
    expect(md).toContain('### `objects[].limit`\n\n*Type: integer · optional · 1 to 100*\n\nPage size.');
    expect(md.startsWith('# HubSpot config\n\nReads contacts and deals.\n')).toBe(true);
  });
});
