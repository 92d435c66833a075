// A declarative stream at run time: render the request with the source config, send it through the
// engine's HTTP client (retry, Retry-After, timeouts) with the connector's auth and rate limit, pick
// the records out of each page, project them onto the declared columns, and page on. Incremental
// streams send the last cursor (minus lookback) and commit the largest value read once all pages are
// stored, so a crash re-reads from the last committed cursor and upserts make that harmless.
import { setTimeout as sleep } from 'node:timers/promises';
import { buildRecord, normalizeColumns, recordSchema } from '../../../connectors/file/columns.ts';
import type { ColumnConfig } from '../../../connectors/file/columns.ts';
import { compileMapping } from '../../../connectors/file/map.ts';
import type { MapsTo } from '../../../connectors/file/map.ts';
import { RunError, isTouchpointError } from '../../errors.ts';
import { advance, startFrom } from '../cursor.ts';
import type { CursorValue } from '../cursor.ts';
import { defineStream } from '../define.ts';
import { valueAt } from '../records.ts';
import type { HttpRequest, JsonObject, JsonSchema, JsonValue, QueryValue, ReadContext, RecordBatch, StreamDefinition } from '../types.ts';
import { createAuth } from './auth.ts';
import type { AuthSpec } from './auth.ts';
import { firstPage, nextPage } from './paginate.ts';
import type { PaginationSpec } from './paginate.ts';
import { render } from './template.ts';
import type { TemplateScope } from './template.ts';

export interface IncrementalSpec {
  cursor_field: string;
  param: string;
  format?: 'iso' | 'date' | 'unix' | 'unix_ms';
  template?: string;
  initial?: string;
  lookback?: string;
}

export interface RestStreamSpec {
  name: string;
  description?: string;
  request: { method?: 'GET' | 'POST'; path: string; query?: Record<string, QueryValue>; headers?: Record<string, string>; body?: JsonObject };
  records: string;
  pagination?: PaginationSpec;
  primary_key: string[];
  incremental?: IncrementalSpec;
  columns: Record<string, ColumnConfig>;
  maps_to?: MapsTo;
}

export interface RestConnectorSpec {
  kind: 'rest';
  name: string;
  version: string;
  sdk_version: number;
  description?: string;
  config: JsonSchema;
  base_url: string;
  headers?: Record<string, string>;
  auth?: AuthSpec;
  rate_limit?: { requests_per_second?: number; requests_per_minute?: number };
  streams: RestStreamSpec[];
}

/** Builds one stream; `scope` is lenient here (mapping constants), strict templates render at read time. */
export function restStream(root: RestConnectorSpec, spec: RestStreamSpec, scope: TemplateScope, where: string): StreamDefinition<JsonObject, JsonObject> {
  const required = [...spec.primary_key, ...(spec.incremental ? [spec.incremental.cursor_field] : [])];
  const columns = normalizeColumns(spec.columns, required, where);
  const map = spec.maps_to ? compileMapping(render(spec.maps_to, scope), columns, spec.primary_key, where) : undefined;
  const inc = spec.incremental;
  return defineStream<JsonObject, JsonObject>({
    name: spec.name,
    description: spec.description,
    primaryKey: spec.primary_key,
    // `initial` may name the config (`{{ config.start_date }}`): known only at read time.
    cursor: inc ? { field: inc.cursor_field, initial: inc.initial?.includes('{{') ? undefined : inc.initial, lookback: inc.lookback } : undefined,
    schema: recordSchema(columns),
    map,
    async *read(ctx: ReadContext<JsonObject>): AsyncGenerator<RecordBatch<JsonObject>> {
      const strict: TemplateScope = { ...scope, config: ctx.config, strict: true };
      const http = ctx.http.extend({ baseUrl: String(render(root.base_url, strict)), headers: render(root.headers, strict) });
      const auth = createAuth(render(root.auth, strict), http);
      const throttle = throttler(root.rate_limit, ctx.signal);
      const request = render(spec.request, strict);
      let state = ctx.fullRefresh ? {} : { ...ctx.state };
      const query: Record<string, QueryValue> = { ...request.query };
      if (inc) {
        const i = render(inc, strict);
        const from = startFrom({ state, cursor: { field: i.cursor_field, initial: i.initial || undefined, lookback: i.lookback }, options: ctx.options, fullRefresh: ctx.fullRefresh });
        if (from !== undefined) query[i.param] = formatStart(from, i);
      }
      const send = async (req: HttpRequest) => {
        for (let attempt = 1; ; attempt++) {
          await throttle();
          try {
            return await http.request(await auth.apply(req));
          } catch (error) {
            // One fresh OAuth token per 401: an expired token heals, revoked credentials do not.
            if (attempt === 1 && isTouchpointError(error) && error.name === 'AuthError' && auth.invalidate()) {
              ctx.log.info('the API refused the access token; fetching a new one');
              continue;
            }
            throw error;
          }
        }
      };
      let next: HttpRequest | undefined = firstPage(spec.pagination, { method: request.method ?? 'GET', url: request.path, query, headers: request.headers, body: request.body });
      while (next) {
        const res = await send(next);
        const items = selectRecords(res.body, spec.records, spec.name);
        const batch: RecordBatch<JsonObject> = { records: [], rejected: [] };
        for (const item of items) {
          const record = buildRecord(columns, (i) => dateParts(valueAt(item, columns[i].from), columns[i].type));
          if (typeof record === 'string') batch.rejected!.push({ reason: `${spec.name}: ${record}`, record: item });
          else {
            batch.records.push(record);
            if (inc) state = advance(state, record[inc.cursor_field] as CursorValue | null);
          }
        }
        yield batch;
        next = nextPage(spec.pagination, next, res, items.length);
      }
      if (inc) yield { records: [], state };
    },
  });
}

/** The records at `path` in a response body (`.` is the body itself). */
export function selectRecords(body: unknown, path: string, stream: string): unknown[] {
  const at = path === '.' ? body : valueAt(body, path);
  if (Array.isArray(at)) return at;
  if (at && typeof at === 'object') return [at];
  if (at === null) return [];
  throw new RunError(`${stream}: the response has no "${path}"`, {
    hint: `records: in connector.yaml must be the dot path of the record array (top-level keys: ${body && typeof body === 'object' ? Object.keys(body).slice(0, 8).join(', ') : typeof body})`,
  });
}

/** `{ year, month, day }` (LinkedIn, Google) as YYYY-MM-DD for date columns; other values as they are. */
function dateParts(value: unknown, type: string): unknown {
  if (type !== 'date' || !value || typeof value !== 'object') return value;
  const { year, month, day } = value as { year?: number; month?: number; day?: number };
  if (!year || !month || !day) return value;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export function formatStart(from: CursorValue, inc: IncrementalSpec): string | number {
  const ms = typeof from === 'number' ? Number.NaN : Date.parse(from);
  const iso = Number.isNaN(ms) ? String(from) : new Date(ms).toISOString();
  const value: JsonValue =
    inc.format === 'date' ? iso.slice(0, 10) : inc.format === 'unix' ? (Number.isNaN(ms) ? from : Math.floor(ms / 1000)) : inc.format === 'unix_ms' ? (Number.isNaN(ms) ? from : ms) : from;
  if (!inc.template) return value;
  const d = Number.isNaN(ms) ? undefined : new Date(ms);
  return inc.template
    .replaceAll('{value}', String(value))
    .replaceAll('{year}', String(d?.getUTCFullYear() ?? ''))
    .replaceAll('{month}', String(d ? d.getUTCMonth() + 1 : ''))
    .replaceAll('{day}', String(d?.getUTCDate() ?? ''));
}

/** Spaces requests to the declared rate; each call resolves when the next request may go. */
function throttler(limit: RestConnectorSpec['rate_limit'], signal: AbortSignal): () => Promise<void> {
  const gap = Math.max(limit?.requests_per_second ? 1000 / limit.requests_per_second : 0, limit?.requests_per_minute ? 60_000 / limit.requests_per_minute : 0);
  let last = 0;
  return async () => {
    const wait = last + gap - Date.now();
    if (gap > 0 && wait > 0) await sleep(wait, undefined, { signal });
    last = Date.now();
  };
}
