// A local BigQuery (v2 REST) holding a GA4 export dataset, for the connector's tests and for
// multi-source pipeline runs: `const fake = await startFake(); fake.url`. It reproduces what the
// connector relies on, per https://cloud.google.com/bigquery/docs/reference/rest/v2/:
//   GET  /bigquery/v2/projects/{p}/datasets/{d}/tables               tables.list (maxResults, pageToken → nextPageToken)
//   GET  /bigquery/v2/projects/{p}/datasets/{d}/tables/{t}           tables.get (schema, numRows, lastModifiedTime)
//   GET  /bigquery/v2/projects/{p}/datasets/{d}/tables/{t}/data      tabledata.list (maxResults, pageToken | startIndex
//                                                                     → pageToken, totalRows, rows as nested f/v)
//   POST /token                                                       Google's token endpoint (oauth.ts)
// Errors are Google's JSON bodies ({ error: { code, message, errors: [{ reason }], status } }): 401
// without a live bearer token, 403 insufficientPermissions without the bigquery scope, 404 notFound, and
// whatever a test queues with failNext (429 with Retry-After, 403 rateLimitExceeded / quotaExceeded,
// 500/503 backendError …). Rows are kept as plain export JSON and encoded to f/v on the way out, by
// code independent of the connector's decoder.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsonObject } from '../../../core/sdk/index.ts';
import { createOAuthFake } from './oauth.ts';
import type { OAuthFake } from './oauth.ts';
import schemaFixture from './fixtures/export-schema.json' with { type: 'json' };
import eventsFixture from './fixtures/events.json' with { type: 'json' };

export interface Field {
  name: string;
  type: string;
  mode?: string;
  fields?: Field[];
}

/** The fixtures: the GA4 export schema (as tables.get returns it) and export rows by table. */
export const fixtures = {
  schema: schemaFixture.fields as Field[],
  tables: eventsFixture as unknown as Record<string, JsonObject[]>,
};

export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization?: string;
}

/** A canned answer for the next matching API request (token requests are never failed). */
export interface FakeFailure {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Only requests whose path matches (default: any API request), e.g. /\/data$/ for tabledata.list. */
  path?: RegExp;
}

export interface BigQueryFake {
  /** http://127.0.0.1:<port>/ — the connector's bigquery_url. */
  url: string;
  /** The token endpoint — credentials.token_url. */
  tokenUrl: string;
  project: string;
  dataset: string;
  oauth: OAuthFake;
  requests: FakeRequest[];
  close(): Promise<void>;
  /** Replaces (or creates) a table; bumps lastModifiedTime. */
  setTable(tableId: string, rows: JsonObject[]): void;
  /** Appends rows (late events landing in a daily table); bumps lastModifiedTime. */
  appendRows(tableId: string, rows: JsonObject[]): void;
  dropTable(tableId: string): void;
  tableRows(tableId: string): JsonObject[];
  failNext(...failures: FakeFailure[]): void;
}

export interface FakeOptions {
  project?: string;
  dataset?: string;
  /** Initial tables (default: fixtures.tables). */
  tables?: Record<string, JsonObject[]>;
  /** Largest page the fake serves whatever maxResults says (BigQuery caps pages by size too). */
  maxPageRows?: number;
}

interface Table {
  rows: JsonObject[];
  created: number;
  modified: number;
}

export const REQUIRED_SCOPE = /auth\/(bigquery|bigquery\.readonly|cloud-platform)\b/;

/** Google's error envelope. */
export function googleErrorBody(code: number, status: string, message: string, reason: string, domain = 'global'): JsonObject {
  return { error: { code, message, errors: [{ message, domain, reason }], status } };
}

/** Error bodies BigQuery sends, for tests to queue with failNext. */
export const errors = {
  rateLimited: (code = 403) =>
    googleErrorBody(code, code === 429 ? 'RESOURCE_EXHAUSTED' : 'PERMISSION_DENIED',
      'Exceeded rate limits: too many api requests per user per method for this user_method. For more information, see https://cloud.google.com/bigquery/docs/troubleshoot-quotas',
      'rateLimitExceeded', 'usageLimits'),
  quotaExceeded: () =>
    googleErrorBody(403, 'PERMISSION_DENIED',
      'Quota exceeded: Your project exceeded quota for free query bytes scanned. For more information, see https://cloud.google.com/bigquery/docs/troubleshoot-quotas',
      'quotaExceeded', 'usageLimits'),
  backendError: (code = 503) =>
    googleErrorBody(code, code === 503 ? 'UNAVAILABLE' : 'INTERNAL', 'Error encountered during execution. Retrying may solve the problem.', 'backendError'),
  unauthenticated: () =>
    googleErrorBody(401, 'UNAUTHENTICATED',
      'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
      'authError'),
};

function encodeScalar(type: string, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (type === 'TIMESTAMP') return String(value);
  return typeof value === 'string' ? value : String(value);
}

function encodeValue(field: Field, value: unknown): unknown {
  if (field.mode === 'REPEATED') {
    return Array.isArray(value) ? value.map((item) => ({ v: encodeOne(field, item) })) : [];
  }
  return encodeOne(field, value);
}

function encodeOne(field: Field, value: unknown): unknown {
  if (field.type === 'RECORD' || field.type === 'STRUCT') {
    if (value === null || value === undefined) return null;
    const o = value as Record<string, unknown>;
    return { f: (field.fields ?? []).map((sub) => ({ v: encodeValue(sub, o[sub.name]) })) };
  }
  return encodeScalar(field.type, value);
}

export function encodeRow(fields: Field[], row: JsonObject): { f: { v: unknown }[] } {
  return { f: fields.map((field) => ({ v: encodeValue(field, row[field.name]) })) };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', vary: 'Origin, X-Origin, Referer', ...headers });
  res.end(JSON.stringify(body));
}

const token = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64url');
const fromToken = (t: string): number | undefined => {
  const m = /^offset:(\d+)$/.exec(Buffer.from(t, 'base64url').toString('utf8'));
  return m ? Number(m[1]) : undefined;
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFake(options: FakeOptions = {}): Promise<BigQueryFake> {
  const project = options.project ?? 'touchpoint-test';
  const dataset = options.dataset ?? 'analytics_123456789';
  const maxPageRows = options.maxPageRows ?? 100_000;
  const oauth = createOAuthFake({ project });
  const tables = new Map<string, Table>();
  let clock = Date.parse('2024-05-12T08:00:00Z');
  const tick = () => (clock += 1000);
  for (const [id, rows] of Object.entries(options.tables ?? fixtures.tables)) tables.set(id, { rows: [...rows], created: tick(), modified: clock });
  const failures: FakeFailure[] = [];
  const requests: FakeRequest[] = [];

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const text = await readBody(req);
      if (req.method === 'POST' && url.pathname === '/token') return oauth.handleToken(new URLSearchParams(text), res);
      requests.push({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), authorization: req.headers.authorization });

      const fIndex = failures.findIndex((f) => !f.path || f.path.test(url.pathname));
      if (fIndex >= 0) {
        const [f] = failures.splice(fIndex, 1);
        return send(res, f.status, f.body ?? googleErrorBody(f.status, 'UNKNOWN', 'injected failure', 'backendError'), f.headers);
      }
      const grant = oauth.tokenFor(req.headers.authorization);
      if (!grant) return send(res, 401, errors.unauthenticated(), { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' });
      if (!REQUIRED_SCOPE.test(grant.scope)) {
        return send(res, 403, googleErrorBody(403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.', 'insufficientPermissions'));
      }
      const m = /^\/bigquery\/v2\/projects\/([^/]+)\/datasets\/([^/]+)\/tables(?:\/([^/]+)(\/data)?)?$/.exec(url.pathname);
      if (!m || req.method !== 'GET') return send(res, 404, googleErrorBody(404, 'NOT_FOUND', `Not found: ${req.method} ${url.pathname}`, 'notFound'));
      const [, p, d, tableId, data] = m.map((s) => (s === undefined ? s : decodeURIComponent(s)));
      if (p !== project || d !== dataset) return send(res, 404, googleErrorBody(404, 'NOT_FOUND', `Not found: Dataset ${p}:${d}`, 'notFound'));
      const maxResults = url.searchParams.has('maxResults') ? Number(url.searchParams.get('maxResults')) : undefined;
      const pageToken = url.searchParams.get('pageToken');
      const start = pageToken ? fromToken(pageToken) : Number(url.searchParams.get('startIndex') ?? 0);
      if (start === undefined || !Number.isInteger(start) || start < 0) {
        return send(res, 400, googleErrorBody(400, 'INVALID_ARGUMENT', 'Invalid page token.', 'invalid'));
      }

      if (!tableId) {
        const ids = [...tables.keys()].sort();
        const size = Math.min(maxResults ?? 50, 1000);
        const page = ids.slice(start, start + size);
        return send(res, 200, {
          kind: 'bigquery#tableList',
          etag: `"${ids.length}-${start}"`,
          tables: page.map((id) => ({
            kind: 'bigquery#table',
            id: `${project}:${dataset}.${id}`,
            tableReference: { projectId: project, datasetId: dataset, tableId: id },
            type: 'TABLE',
            creationTime: String(tables.get(id)!.created),
          })),
          totalItems: ids.length,
          ...(start + size < ids.length ? { nextPageToken: token(start + size) } : {}),
        });
      }
      const table = tables.get(tableId);
      if (!table) return send(res, 404, googleErrorBody(404, 'NOT_FOUND', `Not found: Table ${project}:${dataset}.${tableId}`, 'notFound'));
      if (!data) {
        return send(res, 200, {
          kind: 'bigquery#table',
          etag: `"${table.modified}"`,
          id: `${project}:${dataset}.${tableId}`,
          selfLink: `${url.origin}/bigquery/v2/projects/${project}/datasets/${dataset}/tables/${tableId}`,
          tableReference: { projectId: project, datasetId: dataset, tableId },
          schema: { fields: fixtures.schema },
          numBytes: String(JSON.stringify(table.rows).length),
          numLongTermBytes: '0',
          numRows: String(table.rows.length),
          creationTime: String(table.created),
          lastModifiedTime: String(table.modified),
          type: 'TABLE',
          location: 'EU',
        });
      }
      const size = Math.min(maxResults ?? maxPageRows, maxPageRows);
      const rows = table.rows.slice(start, start + size);
      return send(res, 200, {
        kind: 'bigquery#tableDataList',
        etag: `"${table.modified}-${start}"`,
        totalRows: String(table.rows.length),
        ...(start + size < table.rows.length ? { pageToken: token(start + size) } : {}),
        rows: rows.map((r) => encodeRow(fixtures.schema, r)),
      });
    } catch (error) {
      send(res, 500, googleErrorBody(500, 'INTERNAL', `fake failed: ${(error as Error).message}`, 'internalError'));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/`;

  return {
    url,
    tokenUrl: `${url}token`,
    project,
    dataset,
    oauth,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        // Keep-alive sockets would hold close() open for seconds.
        server.closeAllConnections();
      }),
    setTable(id, rows) {
      const existing = tables.get(id);
      tables.set(id, { rows: [...rows], created: existing?.created ?? tick(), modified: tick() });
    },
    appendRows(id, rows) {
      const t = tables.get(id);
      if (!t) throw new Error(`no table ${id}`);
      t.rows.push(...rows);
      t.modified = tick();
    },
    dropTable(id) {
      tables.delete(id);
    },
    tableRows: (id) => tables.get(id)?.rows ?? [],
    failNext(...f) {
      failures.push(...f);
    },
  };
}
