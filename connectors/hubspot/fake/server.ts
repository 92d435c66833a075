// A local stand-in for the HubSpot API: a node:http server on 127.0.0.1 that answers the endpoints the
// connector uses in HubSpot's wire format — CRM v3 list (limit ≤ 100, `after`, repeated or comma-joined
// `properties`, `associations`, `archived`) and search (filterGroups, sorts, limit ≤ 200, offset
// `after`, `total`, and the 10,000-result ceiling, configurable here), properties, associations v4
// batch read (207 with errors for records without associations), marketing v3 forms, form-integrations
// v1 submissions (newest first, limit ≤ 50), the OAuth v1 token endpoint, Bearer auth with HubSpot's
// 401 body, and injected failures (429 with HubSpot's rate-limit bodies and headers, 5xx). Tests mutate
// its data between reads and inspect the requests it saw.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import data from './fixtures.json' with { type: 'json' };

export type FakeObject = 'contacts' | 'companies' | 'deals' | 'calls' | 'emails' | 'meetings';

export interface FakeRecord {
  id: string;
  properties: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
  associations?: Record<string, string[]>;
}

export interface FakeSubmission {
  conversionId: string;
  submittedAt: number;
  pageUrl: string | null;
  values: { name: string; value: string | null; objectTypeId?: string }[];
}

export interface Fixtures {
  objects: Record<FakeObject, FakeRecord[]>;
  properties: Record<FakeObject, { name: string; [key: string]: unknown }[]>;
  forms: { id: string; name: string; [key: string]: unknown }[];
  submissions: Record<string, FakeSubmission[]>;
  credentials: { accessTokens: string[]; oauthClients: { client_id: string; client_secret: string; refresh_token: string }[] };
}

/** The shipped fixtures (a fresh copy each time: fakes mutate their data). */
export const fixtures = (): Fixtures => structuredClone(data) as unknown as Fixtures;

export interface FailRule {
  /** Only requests whose path starts with this (or matches it). Default: every request. */
  path?: string | RegExp;
  method?: string;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** How many matching requests fail (default 1). */
  times?: number;
}

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  headers: IncomingHttpHeaders;
}

export interface FakeOptions {
  fixtures?: Fixtures;
  /** Results one search query can reach (HubSpot: 10,000). */
  searchCeiling?: number;
  /** Longer request URLs get 414 URI Too Long. */
  maxUrlLength?: number;
  /** Associations returned per record before `paging.next` (list and v4 batch read). */
  associationPageSize?: number;
  /** Lifetime of issued OAuth access tokens (HubSpot: 1800 s). */
  tokenLifetimeSeconds?: number;
}

export interface HubSpotFake {
  url: string;
  requests: FakeRequest[];
  data: Fixtures;
  close(): Promise<void>;
  failNext(rule: FailRule): void;
  /** Creates or changes a record; its updatedAt and last-modified property become `at` (default now). */
  upsert(object: FakeObject, record: { id: string; properties?: Record<string, unknown>; associations?: Record<string, string[]> }, at?: Date): FakeRecord;
  archive(object: FakeObject, id: string, at?: Date): void;
  addSubmission(formId: string, submission: FakeSubmission): void;
  setSearchCeiling(n: number): void;
  /** Access tokens issued by the token endpoint so far. */
  issuedTokens: string[];
}

/** HubSpot's 429 body (API usage guidelines) for a rate-limit policy. */
export function rateLimitBody(policyName: 'DAILY' | 'SECONDLY' | 'TEN_SECONDLY_ROLLING') {
  const message = { DAILY: 'You have reached your daily limit.', SECONDLY: 'You have reached your secondly limit.', TEN_SECONDLY_ROLLING: 'You have reached your ten_secondly_rolling limit.' }[policyName];
  return { status: 'error', message, errorType: 'RATE_LIMIT', correlationId: randomUUID(), policyName, requestId: randomUUID() };
}

const LASTMOD: Record<FakeObject, string> = { contacts: 'lastmodifieddate', companies: 'hs_lastmodifieddate', deals: 'hs_lastmodifieddate', calls: 'hs_lastmodifieddate', emails: 'hs_lastmodifieddate', meetings: 'hs_lastmodifieddate' };
const SINGULAR: Record<string, string> = { contacts: 'contact', companies: 'company', deals: 'deal', calls: 'call', emails: 'email', meetings: 'meeting' };

class Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;
  constructor(status: number, body: unknown, headers: Record<string, string> = {}) {
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

const error = (status: number, message: string, category: string, extra: object = {}) =>
  new Reply(status, { status: 'error', message, correlationId: randomUUID(), category, ...extra });

export async function startFake(options: FakeOptions = {}): Promise<HubSpotFake> {
  const d = options.fixtures ?? fixtures();
  let ceiling = options.searchCeiling ?? 10_000;
  const maxUrl = options.maxUrlLength ?? 16_384;
  const assocPage = options.associationPageSize ?? 500;
  const lifetime = options.tokenLifetimeSeconds ?? 1800;
  const requests: FakeRequest[] = [];
  const rules: FailRule[] = [];
  const tokens = new Set(d.credentials.accessTokens);
  const issued: string[] = [];

  const objectOf = (name: string): FakeRecord[] | undefined => (Object.hasOwn(d.objects, name) ? d.objects[name as FakeObject] : undefined);
  const propertyList = (req: FakeRequest, key = 'properties') => req.query.getAll(key).flatMap((v) => v.split(',')).filter(Boolean);

  function view(object: FakeObject, r: FakeRecord, wanted: string[]): Record<string, unknown> {
    const names = wanted.length > 0 ? [...new Set([...wanted, 'hs_object_id', LASTMOD[object], 'createdate'])] : defaults(object);
    const properties: Record<string, unknown> = {};
    for (const n of names) properties[n] = n === 'hs_object_id' ? r.id : Object.hasOwn(r.properties, n) ? r.properties[n] : null;
    const out: Record<string, unknown> = { id: r.id, properties, createdAt: r.createdAt, updatedAt: r.updatedAt, archived: r.archived };
    if (r.archived) out.archivedAt = r.archivedAt;
    return out;
  }

  function list(object: FakeObject, records: FakeRecord[], req: FakeRequest): Reply {
    const limit = Number(req.query.get('limit') ?? 10);
    if (!(limit >= 1 && limit <= 100)) return error(400, `limit must be between 1 and 100 (got ${req.query.get('limit')})`, 'VALIDATION_ERROR');
    const archived = req.query.get('archived') === 'true';
    const after = req.query.get('after');
    const matching = records.filter((r) => r.archived === archived && (after === null || Number(r.id) >= Number(after))).sort((a, b) => Number(a.id) - Number(b.id));
    const page = matching.slice(0, limit);
    const wanted = propertyList(req);
    const assoc = propertyList(req, 'associations');
    const results = page.map((r) => {
      const out = view(object, r, wanted);
      const linked: Record<string, unknown> = {};
      for (const to of assoc) {
        const ids = r.associations?.[to] ?? [];
        if (ids.length === 0) continue;
        const shown = ids.slice(0, assocPage).map((id) => ({ id, type: `${SINGULAR[object]}_to_${SINGULAR[to] ?? to}` }));
        linked[to] = { results: shown, ...(ids.length > assocPage ? { paging: { next: { after: String(assocPage), link: '' } } } : {}) };
      }
      if (Object.keys(linked).length > 0) out.associations = linked;
      return out;
    });
    const body: Record<string, unknown> = { results };
    if (matching.length > limit) {
      const next = String(Number(page.at(-1)!.id) + 1);
      body.paging = { next: { after: next, link: `?after=${next}` } };
    }
    return new Reply(200, body, usageHeaders());
  }

  function search(object: FakeObject, records: FakeRecord[], body: any): Reply {
    const limit = Number(body?.limit ?? 10);
    if (!(limit >= 1 && limit <= 200)) return error(400, `limit must be between 1 and 200 (got ${body?.limit})`, 'VALIDATION_ERROR');
    const after = Number(body?.after ?? 0);
    if (after >= ceiling) {
      return error(400, `There was a problem with the request: a search can page through at most ${ceiling} results.`, 'VALIDATION_ERROR');
    }
    const groups: any[] = Array.isArray(body?.filterGroups) ? body.filterGroups : [];
    const matches = records.filter((r) => !r.archived && (groups.length === 0 || groups.some((g) => (g.filters ?? []).every((f: any) => test(r, f)))));
    const sort = Array.isArray(body?.sorts) && body.sorts.length > 0 ? body.sorts[0] : undefined;
    const by = typeof sort === 'string' ? sort.replace(/^-/, '') : sort?.propertyName;
    const desc = typeof sort === 'string' ? sort.startsWith('-') : sort?.direction === 'DESCENDING';
    // Ties come back in no useful order (here: ids descending); callers must not rely on it.
    matches.sort((a, b) => (by ? compare(valueOf(a, by), valueOf(b, by)) * (desc ? -1 : 1) : 0) || Number(b.id) - Number(a.id));
    const reachable = Math.min(matches.length, ceiling);
    const page = matches.slice(after, Math.min(after + limit, reachable));
    const wanted: string[] = Array.isArray(body?.properties) ? body.properties : [];
    const out: Record<string, unknown> = { total: matches.length, results: page.map((r) => view(object, r, wanted)) };
    if (after + limit < reachable) out.paging = { next: { after: String(after + limit), link: '' } };
    return new Reply(200, out);
  }

  function batchAssociations(from: FakeObject, to: string, body: any): Reply {
    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const input of Array.isArray(body?.inputs) ? body.inputs : []) {
      const ids = objectOf(from)?.find((r) => r.id === String(input?.id))?.associations?.[to] ?? [];
      if (ids.length === 0) {
        errors.push({ status: 'error', category: 'OBJECT_NOT_FOUND', subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND', message: `No ${to} is associated with ${SINGULAR[from]} ${input?.id}.`, context: { fromObjectId: [String(input?.id)] } });
        continue;
      }
      results.push({
        from: { id: String(input.id) },
        to: ids.slice(0, assocPage).map((id) => ({ toObjectId: Number(id), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 3, label: null }] })),
        ...(ids.length > assocPage ? { paging: { next: { after: String(assocPage), link: '' } } } : {}),
      });
    }
    const now = new Date().toISOString();
    const out = { status: 'COMPLETE', results, startedAt: now, completedAt: now, ...(errors.length > 0 ? { errors, numErrors: errors.length } : {}) };
    return new Reply(errors.length > 0 ? 207 : 200, out);
  }

  function route(req: FakeRequest): Reply {
    const rule = rules.find((r) => (!r.method || r.method === req.method) && (!r.path || (typeof r.path === 'string' ? req.path.startsWith(r.path) : r.path.test(req.path))));
    if (rule) {
      if (--rule.times! <= 0) rules.splice(rules.indexOf(rule), 1);
      return new Reply(rule.status, rule.body ?? null, rule.headers);
    }
    if (req.method === 'POST' && req.path === '/oauth/v1/token') return token(req.body as URLSearchParams);
    const auth = /^Bearer (.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    if (!auth || !tokens.has(auth)) {
      return error(401, 'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview', 'INVALID_AUTHENTICATION');
    }
    const seg = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    const body = req.body as any;
    if (seg[0] === 'crm' && seg[1] === 'v3' && seg[2] === 'properties' && seg.length === 4 && req.method === 'GET') {
      const props = d.properties[seg[3] as FakeObject];
      return props ? new Reply(200, { results: props }) : error(400, `Unable to infer object type from: ${seg[3]}`, 'VALIDATION_ERROR');
    }
    if (seg[0] === 'crm' && seg[1] === 'v3' && seg[2] === 'objects') {
      const records = objectOf(seg[3]);
      if (!records) return error(400, `Unable to infer object type from: ${seg[3]}`, 'VALIDATION_ERROR');
      if (seg.length === 4 && req.method === 'GET') return list(seg[3] as FakeObject, records, req);
      if (seg.length === 5 && seg[4] === 'search' && req.method === 'POST') return search(seg[3] as FakeObject, records, body);
    }
    if (seg[0] === 'crm' && seg[1] === 'v4' && seg[2] === 'associations' && seg[5] === 'batch' && seg[6] === 'read' && req.method === 'POST') {
      if (!objectOf(seg[3])) return error(400, `Unable to infer object type from: ${seg[3]}`, 'VALIDATION_ERROR');
      return batchAssociations(seg[3] as FakeObject, seg[4], body);
    }
    if (seg[0] === 'crm' && seg[1] === 'v4' && seg[2] === 'objects' && seg[5] === 'associations' && seg.length === 7 && req.method === 'GET') {
      const ids = objectOf(seg[3])?.find((r) => r.id === seg[4])?.associations?.[seg[6]] ?? [];
      const start = Number(req.query.get('after') ?? 0);
      const limit = Number(req.query.get('limit') ?? 500);
      const page = ids.slice(start, start + limit).map((id) => ({ toObjectId: Number(id), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 3, label: null }] }));
      return new Reply(200, { results: page, ...(start + limit < ids.length ? { paging: { next: { after: String(start + limit), link: '' } } } : {}) });
    }
    if (seg[0] === 'marketing' && seg[1] === 'v3' && seg[2] === 'forms' && seg.length === 3 && req.method === 'GET') {
      const limit = Number(req.query.get('limit') ?? 20);
      const start = Number(req.query.get('after') ?? 0);
      const active = d.forms.filter((f) => f.archived !== true);
      const results = active.slice(start, start + limit);
      return new Reply(200, { results, ...(start + limit < active.length ? { paging: { next: { after: String(start + limit), link: '' } } } : {}) });
    }
    if (seg[0] === 'form-integrations' && seg[1] === 'v1' && seg[2] === 'submissions' && seg[3] === 'forms' && seg.length === 5 && req.method === 'GET') {
      const subs = d.submissions[seg[4]];
      if (!d.forms.some((f) => f.id === seg[4])) return error(404, `Form ${seg[4]} not found`, 'OBJECT_NOT_FOUND');
      const limit = Number(req.query.get('limit') ?? 20);
      if (!(limit >= 1 && limit <= 50)) return error(400, `limit must be between 1 and 50 (got ${req.query.get('limit')})`, 'VALIDATION_ERROR');
      const start = Number(req.query.get('after') ?? 0);
      const newestFirst = [...(subs ?? [])].sort((a, b) => b.submittedAt - a.submittedAt);
      const results = newestFirst.slice(start, start + limit);
      return new Reply(200, { results, ...(start + limit < newestFirst.length ? { paging: { next: { after: String(start + limit), link: '' } } } : {}) });
    }
    return error(404, `no fake route for ${req.method} ${req.path}`, 'OBJECT_NOT_FOUND');
  }

  function token(form: URLSearchParams): Reply {
    const client = d.credentials.oauthClients.find((c) => c.client_id === form.get('client_id'));
    const bad = (status: string, message: string) => new Reply(400, { status, message, correlationId: randomUUID(), requestId: randomUUID() });
    if (form.get('grant_type') !== 'refresh_token') return bad('BAD_GRANT_TYPE', 'grant_type must be refresh_token or authorization_code');
    if (!client) return bad('BAD_CLIENT_ID', 'missing or invalid client id');
    if (client.client_secret !== form.get('client_secret')) return bad('BAD_CLIENT_SECRET', 'missing or invalid client secret');
    if (client.refresh_token !== form.get('refresh_token')) return bad('BAD_REFRESH_TOKEN', 'missing or unknown refresh token');
    const access = `fake-oauth-${randomUUID()}`;
    tokens.add(access);
    issued.push(access);
    return new Reply(200, { token_type: 'bearer', refresh_token: client.refresh_token, access_token: access, expires_in: lifetime });
  }

  const server = createServer((incoming: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (c: Buffer) => chunks.push(c));
    incoming.on('end', () => {
      const url = new URL(incoming.url ?? '/', 'http://fake');
      const raw = Buffer.concat(chunks).toString('utf8');
      const type = String(incoming.headers['content-type'] ?? '');
      let body: unknown = raw === '' ? undefined : raw;
      if (type.includes('application/x-www-form-urlencoded')) body = new URLSearchParams(raw);
      else if (raw !== '') {
        try {
          body = JSON.parse(raw);
        } catch {
          body = raw;
        }
      }
      const req: FakeRequest = { method: incoming.method ?? 'GET', path: url.pathname.replace(/\/+$/, '') || '/', query: url.searchParams, body, headers: incoming.headers };
      requests.push(req);
      if ((incoming.url ?? '').length > maxUrl) {
        res.writeHead(414, { 'content-type': 'text/html' }).end('<html><body><h1>414 Request-URI Too Large</h1></body></html>');
        return;
      }
      const reply = route(req);
      const headers = { 'content-type': 'application/json;charset=utf-8', ...reply.headers };
      res.writeHead(reply.status, headers).end(reply.body === null || reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    data: d,
    issuedTokens: issued,
    close: () => new Promise<void>((done, fail) => server.close((e) => (e ? fail(e) : done()))),
    failNext: (rule) => void rules.push({ ...rule, times: rule.times ?? 1 }),
    upsert(object, record, at = new Date()) {
      const iso = at.toISOString();
      const all = d.objects[object];
      let r = all.find((x) => x.id === record.id);
      if (!r) {
        r = { id: record.id, properties: { hs_object_id: record.id, createdate: iso }, createdAt: iso, updatedAt: iso, archived: false };
        all.push(r);
      }
      Object.assign(r.properties, record.properties, { [LASTMOD[object]]: iso });
      if (record.associations) r.associations = { ...r.associations, ...record.associations };
      r.updatedAt = iso;
      return r;
    },
    archive(object, id, at = new Date()) {
      const r = d.objects[object].find((x) => x.id === id);
      if (!r) throw new Error(`no ${object} ${id} in the fake`);
      r.archived = true;
      r.archivedAt = at.toISOString();
    },
    addSubmission: (formId, submission) => void (d.submissions[formId] ??= []).push(submission),
    setSearchCeiling: (n) => void (ceiling = n),
  };
}

function defaults(object: FakeObject): string[] {
  // Returned when a request names no properties (search guide, "default returned properties").
  return object === 'contacts' ? ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'] : ['createdate', 'hs_lastmodifieddate', 'hs_object_id'];
}

function valueOf(r: FakeRecord, name: string): unknown {
  return name === 'hs_object_id' ? r.id : r.properties[name];
}

/** Numbers as numbers, dates (ISO or epoch ms) as instants, anything else as text. */
function compare(a: unknown, b: unknown): number {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : -1;
  if (b === null || b === undefined) return 1;
  const sa = String(a);
  const sb = String(b);
  const num = /^-?\d+(\.\d+)?$/;
  if (num.test(sa) && num.test(sb)) return Math.sign(Number(sa) - Number(sb));
  const ta = num.test(sa) ? Number(sa) : Date.parse(sa);
  const tb = num.test(sb) ? Number(sb) : Date.parse(sb);
  if (Number.isFinite(ta) && Number.isFinite(tb)) return Math.sign(ta - tb);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function test(r: FakeRecord, f: { propertyName?: string; operator?: string; value?: unknown; highValue?: unknown; values?: unknown[] }): boolean {
  const v = valueOf(r, String(f.propertyName));
  switch (f.operator) {
    case 'EQ':
      return compare(v, f.value) === 0;
    case 'NEQ':
      return compare(v, f.value) !== 0;
    case 'GT':
      return v !== null && v !== undefined && compare(v, f.value) > 0;
    case 'GTE':
      return v !== null && v !== undefined && compare(v, f.value) >= 0;
    case 'LT':
      return v !== null && v !== undefined && compare(v, f.value) < 0;
    case 'LTE':
      return v !== null && v !== undefined && compare(v, f.value) <= 0;
    case 'BETWEEN':
      return v !== null && v !== undefined && compare(v, f.value) >= 0 && compare(v, f.highValue) <= 0;
    case 'IN':
      return (f.values ?? []).some((x) => compare(v, x) === 0);
    case 'HAS_PROPERTY':
      return v !== null && v !== undefined && v !== '';
    case 'NOT_HAS_PROPERTY':
      return v === null || v === undefined || v === '';
    default:
      return false;
  }
}

function usageHeaders(): Record<string, string> {
  // Sent on most responses (not on search): API usage guidelines, "Rate limit headers".
  return {
    'x-hubspot-ratelimit-daily': '500000',
    'x-hubspot-ratelimit-daily-remaining': '499000',
    'x-hubspot-ratelimit-interval-milliseconds': '10000',
    'x-hubspot-ratelimit-max': '190',
    'x-hubspot-ratelimit-remaining': '189',
    'x-hubspot-ratelimit-secondly': '19',
    'x-hubspot-ratelimit-secondly-remaining': '18',
  };
}
