// The built-in `file` connector: NDJSON and CSV files (optionally gzipped) matched by globs, with
// columns, keys, incremental mode and the mapping to canonical rows all declared in the pipeline.
import { defineConnector } from '../../core/sdk/define.ts';
import configSchema from './config.schema.json' with { type: 'json' };
import { buildStreams } from './streams.ts';
import type { FileConfig } from './streams.ts';

export type { FileConfig, FileStreamConfig } from './streams.ts';
export type { MapsTo, EventSpec, LinkSpec, SpendSpec, Expr, Value, Condition } from './map.ts';

export default defineConnector<FileConfig>({
  name: 'file',
  version: '0.1.0',
  description: 'NDJSON and CSV files (gzip too) from local globs, mapped declaratively to events, identifier links and spend.',
  configSchema,
  streams: (config) => buildStreams(config),
});
