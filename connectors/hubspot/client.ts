// The only file that talks to HubSpot. CRM, properties, associations and forms calls go through
// @hubspot/api-client's generated API classes, configured the way `new Client({ basePath,
// numberOfApiCallRetries: 0 })` configures them (ApiClientConfigurator: base path, User-Agent) but with
// our transport: every request goes through `ctx.http.fetch`, so the pipeline's retry policy (backoff,
// Retry-After, HubSpot's rate-limit bodies read by `classifyHubSpot`, timeouts, cancellation) applies
// once. The Client class offers no way in: `httpAgent` only switches its transport to node:http, and a
// per-call `httpApi` override is ignored by the generated code (ObservableAPI sends through
// `this.configuration.httpApi`). Building the API classes directly also keeps the library's
// process-wide decorators (its retry loop that logs with console.error, its Bottleneck limiter — set
// by whichever Client was built last) away from our calls. Form submissions (a v1 endpoint the library
// lacks) and the OAuth token exchange use ctx.http.
import * as assoc from '@hubspot/api-client/lib/codegen/crm/associations/v4/index.js';
import * as objects from '@hubspot/api-client/lib/codegen/crm/objects/index.js';
import * as props from '@hubspot/api-client/lib/codegen/crm/properties/index.js';
import * as forms from '@hubspot/api-client/lib/codegen/marketing/forms/index.js';
import { ApiClientConfigurator } from '@hubspot/api-client/lib/src/configuration/ApiClientConfigurator.js';
import { AuthError, ConfigError, RunError, TouchpointError, parseRetryAfter } from '../../core/sdk/index.ts';
import type { JsonObject, ReadContext, ResponseClassifier } from '../../core/sdk/index.ts';
import type { CrmObject, CrmRecord, FormSubmissionRecord, HubSpotConfig } from './streams.ts';

export const DEFAULT_BASE_URL = 'https://api.hubapi.com';
export const DEFAULT_TOKEN_URL = 'https://api.hubapi.com/oauth/v1/token';
/** Page maximums: list (GET /crm/v3/objects) 100, search 200 (search guide, "Limitations"), form submissions 50. */
export const MAX_LIST_LIMIT = 100;
export const MAX_SEARCH_LIMIT = 200;
export const MAX_SUBMISSIONS_LIMIT = 50;
/**
 * Characters of `properties=` query per GET. All of a portal's contact properties (often 500+) in one
 * URL can exceed what HubSpot's front end accepts (414 URI Too Long): longer lists are split and the
 * pages merged by id, as the list endpoint returns the same records for the same `after`.
 */
export const MAX_PROPERTIES_QUERY = 12_000;

export type ClientContext = Pick<ReadContext<HubSpotConfig>, 'source' | 'config' | 'http' | 'log'> & { stream?: string };

export interface Page<T> {
  results: T[];
  /** The `after` token of the next page, if there is one. */
  next?: string;
}

export interface SearchPage extends Page<CrmRecord> {
  /** How many records match the whole query (not only this page). */
  total: number;
}

export interface HubSpotClient {
  propertyNames(object: CrmObject): Promise<string[]>;
  list(object: CrmObject, o: { after?: string; limit: number; properties: string[]; associations?: string[]; archived: boolean }): Promise<Page<CrmRecord>>;
  /** POST /crm/v3/objects/{object}/search with a body shaped as the search guide documents it. */
  search(object: CrmObject, request: JsonObject): Promise<SearchPage>;
  /** Ids of `to` records associated with each of `ids` (CRM associations v4 batch read). */
  associated(object: CrmObject, to: string, ids: string[]): Promise<Map<string, string[]>>;
  forms(after?: string): Promise<Page<{ id: string; name: string | null }>>;
  submissions(form: { id: string; name: string | null }, after: string | undefined, limit: number): Promise<Page<FormSubmissionRecord>>;
}

// What the transport needs from each generated module: they are the same code generated per API.
interface Generated {
  createConfiguration(conf: object): any;
  ServerConfiguration: new (url: string, vars: { [key: string]: string }) => any;
  Observable: new (promise: Promise<any>) => any;
  ResponseContext: new (status: number, headers: Record<string, string>, body: { text(): Promise<string>; binary(): Promise<Buffer> }) => any;
  wrapHttpLibrary(library: { send(request: any): Promise<any> }): any;
}

export function createHubSpotClient(ctx: ClientContext): HubSpotClient {
  const config = ctx.config;
  const where = ctx.stream ? `${ctx.source}/${ctx.stream}` : ctx.source;
  const base = (config.base_url ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const http = ctx.http.extend({ baseUrl: base, classify: classifyHubSpot(config.account_time_zone) });
  const token = createTokenSource(ctx, where);
  const fail = (what: string) => (error: unknown) => {
    throw translate(error, what, where, Boolean(config.access_token));
  };

  function configure(mod: Generated): any {
    const params = ApiClientConfigurator.getParams({ basePath: base, numberOfApiCallRetries: 0 }, mod.ServerConfiguration, mod.Observable, mod.Observable);
    const send = async (request: any) => {
      const headers = { ...request.getHeaders(), Authorization: `Bearer ${await token()}` };
      const response = await http.fetch(request.getUrl(), { method: request.getHttpMethod(), headers, body: request.getBody() });
      const bytes = Buffer.from(await response.arrayBuffer());
      const flat: Record<string, string> = {};
      response.headers.forEach((value, name) => (flat[name] = value));
      return new mod.ResponseContext(response.status, flat, { text: async () => bytes.toString('utf8'), binary: async () => bytes });
    };
    return mod.createConfiguration({ ...params, httpApi: mod.wrapHttpLibrary({ send }) });
  }
  const objectsConfig = configure(objects as unknown as Generated);
  const basic = new objects.BasicApi(objectsConfig);
  const searchApi = new objects.SearchApi(objectsConfig);
  const properties = new props.CoreApi(configure(props as unknown as Generated));
  const assocConfig = configure(assoc as unknown as Generated);
  const assocBatch = new assoc.BatchApi(assocConfig);
  const assocBasic = new assoc.BasicApi(assocConfig);
  const formsApi = new forms.FormsApi(configure(forms as unknown as Generated));

  /**
   * Every `to` id associated with one record (associations v4, 500 a page), for the rare record whose
   * list did not fit in the response it came with. Read from the start: the truncated list's paging
   * token belongs to another endpoint.
   */
  async function allAssociations(object: CrmObject, id: string, to: string): Promise<string[]> {
    const found = new Set<string>();
    let next: string | undefined;
    do {
      const page: assoc.CollectionResponseMultiAssociatedObjectWithLabelForwardPaging = await assocBasic
        .getPage(object, id, to, next, 500)
        .catch(fail(`reading the ${to} of ${object} ${id}`));
      for (const r of page.results) found.add(String(r.toObjectId));
      next = page.paging?.next?.after;
    } while (next !== undefined);
    return [...found];
  }

  return {
    async propertyNames(object) {
      const all = await properties.getAll(object, false).catch(fail(`reading the ${object} property list`));
      return all.results.map((p) => p.name);
    },

    async list(object, o) {
      const chunks = chunkProperties(o.properties);
      const what = `listing ${o.archived ? 'archived ' : ''}${object}`;
      const first = await basic.getPage(object, o.limit, o.after, chunks[0], undefined, o.associations, o.archived).catch(fail(what));
      const records = first.results.map(toRecord);
      const byId = new Map(records.map((r) => [r.id, r]));
      for (const chunk of chunks.slice(1)) {
        const more = await basic.getPage(object, o.limit, o.after, chunk, undefined, undefined, o.archived).catch(fail(what));
        for (const r of more.results) Object.assign(byId.get(r.id)?.properties ?? {}, toRecord(r).properties);
      }
      for (const [i, raw] of first.results.entries()) {
        for (const [to, list] of Object.entries(raw.associations ?? {})) {
          if (list.paging?.next?.after === undefined) continue;
          records[i].associations = { ...records[i].associations, [to]: await allAssociations(object, raw.id, to) };
        }
      }
      return { results: records, next: first.paging?.next?.after };
    },

    async search(object, request) {
      const page = await searchApi.doSearch(object, request as unknown as objects.PublicObjectSearchRequest).catch(fail(`searching ${object}`));
      return { results: page.results.map(toRecord), total: page.total, next: page.paging?.next?.after };
    },

    async associated(object, to, ids) {
      const found = new Map<string, string[]>(ids.map((id) => [id, []]));
      if (ids.length === 0) return found;
      // A record without associations comes back in `errors` (207 Multi-Status), not in `results`.
      const batch = await assocBatch.getPage(object, to, { inputs: ids.map((id) => ({ id })) }).catch(fail(`reading ${object} → ${to} associations`));
      for (const r of batch.results) {
        const listed = [...new Set(r.to.map((t) => String(t.toObjectId)))];
        found.set(r._from.id, r.paging?.next?.after === undefined ? listed : await allAssociations(object, r._from.id, to));
      }
      return found;
    },

    async forms(after) {
      const page = await formsApi.getPage(after).catch(fail('listing forms'));
      return { results: page.results.map((f) => ({ id: f.id, name: f.name ?? null })), next: page.paging?.next?.after };
    },

    async submissions(form, after, limit) {
      const path = `form-integrations/v1/submissions/forms/${encodeURIComponent(form.id)}`;
      const response = await http
        .get<{ results?: any[]; paging?: { next?: { after?: string } } }>(path, { limit, after }, { authorization: `Bearer ${await token()}` })
        .catch(fail(`reading submissions of form ${form.id}`));
      const results = (response.body?.results ?? []).map(
        (s): FormSubmissionRecord => ({
          conversionId: s?.conversionId,
          formId: form.id,
          formName: form.name,
          submittedAt: s?.submittedAt,
          pageUrl: s?.pageUrl ?? null,
          values: s?.values,
        }),
      );
      return { results, next: response.body?.paging?.next?.after };
    },
  };
}

/** The library's model objects (Dates, nested collections) as a plain record; unusable dates become null. */
function toRecord(o: any): CrmRecord {
  const record: CrmRecord = {
    id: o.id,
    properties: { ...o.properties },
    createdAt: iso(o.createdAt),
    updatedAt: iso(o.updatedAt),
    archived: o.archived ?? false,
  };
  if (o.archivedAt !== undefined) record.archivedAt = iso(o.archivedAt);
  if (o.associations) {
    record.associations = {};
    // One contact can be associated under several labels (primary, unlabelled): one id each.
    for (const [to, list] of Object.entries<any>(o.associations)) record.associations[to] = [...new Set<string>((list.results ?? []).map((a: any) => String(a.id)))];
  }
  return record;
}

function iso(value: unknown): string | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  return typeof value === 'string' ? value : null;
}

export function chunkProperties(names: string[]): string[][] {
  const chunks: string[][] = [[]];
  let size = 0;
  for (const name of names) {
    const cost = encodeURIComponent(name).length + '&properties='.length;
    if (size + cost > MAX_PROPERTIES_QUERY && chunks.at(-1)!.length > 0) {
      chunks.push([]);
      size = 0;
    }
    chunks.at(-1)!.push(name);
    size += cost;
  }
  return chunks;
}

/** A function returning a valid access token: the private app's, or an OAuth token refreshed before it expires. */
function createTokenSource(ctx: ClientContext, where: string): () => Promise<string> {
  const c = ctx.config;
  if (c.access_token) {
    const fixed = c.access_token;
    return async () => fixed;
  }
  if (!c.client_id || !c.client_secret || !c.refresh_token) {
    throw new ConfigError('give either access_token or client_id, client_secret and refresh_token', { where: ctx.source });
  }
  const url = c.token_url ?? DEFAULT_TOKEN_URL;
  const http = ctx.http.extend({ classify: classifyTokenResponse });
  let current: { token: string; expiresAt: number } | undefined;
  let pending: Promise<string> | undefined;
  async function refresh(): Promise<string> {
    const body = new URLSearchParams({ grant_type: 'refresh_token', client_id: c.client_id!, client_secret: c.client_secret!, refresh_token: c.refresh_token! });
    let response;
    try {
      response = await http.request<Record<string, unknown>>({ method: 'POST', url, body });
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      throw new AuthError(`HubSpot refused the OAuth refresh token: ${error.message}`, {
        where,
        hint: 'check client_id, client_secret and refresh_token (and token_url); an uninstalled app or a revoked token needs a new install to get a fresh refresh token',
        cause: error,
      });
    }
    // v1 answers in snake_case; the dated token endpoints document camelCase.
    const b = response.body ?? {};
    const token = b.access_token ?? b.accessToken;
    const seconds = Number(b.expires_in ?? b.expiresIn ?? 1800);
    if (typeof token !== 'string' || token === '') throw new RunError(`the OAuth token response from ${url} has no access token`, { where, hint: 'check token_url' });
    current = { token, expiresAt: Date.now() + seconds * 1000 };
    ctx.log.debug('obtained a HubSpot access token', { expiresInSeconds: seconds });
    return token;
  }
  return async () => {
    // Refresh a minute early: a token that expires between the check and the request gives a 401.
    if (current && Date.now() < current.expiresAt - 60_000) return current.token;
    pending ??= refresh().finally(() => (pending = undefined));
    return pending;
  };
}

/** The v1 token endpoint answers 400 (not 401) for a bad refresh token, client id or secret. */
const classifyTokenResponse: ResponseClassifier = (response, body) => {
  const b = (body ?? {}) as { status?: unknown; error?: unknown };
  if (response.status === 400 && (String(b.status).startsWith('BAD_') || b.error === 'invalid_grant' || b.error === 'invalid_client')) return { kind: 'auth' };
  return undefined;
};

/**
 * HubSpot's 429 bodies (API usage guidelines, developers.hubspot.com/docs/api/usage-details):
 * `{ status: 'error', errorType: 'RATE_LIMIT', policyName, message }`. DAILY is a quota until midnight
 * in the account's time zone; SECONDLY and TEN_SECONDLY_ROLLING pass once their window has rolled.
 */
export function classifyHubSpot(timeZone?: string, now: () => Date = () => new Date()): ResponseClassifier {
  if (timeZone) {
    try {
      Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions();
    } catch {
      throw new ConfigError(`account_time_zone: "${timeZone}" is not an IANA time zone`, { hint: 'e.g. Europe/Warsaw or America/New_York' });
    }
  }
  return (response, body) => {
    if (response.status !== 429) return undefined;
    const b = (body ?? {}) as { policyName?: unknown; message?: unknown };
    const h = response.headers;
    if (b.policyName === 'DAILY' || h.get('x-hubspot-ratelimit-daily-remaining') === '0') {
      const resetsAt = nextMidnight(now(), timeZone);
      return {
        kind: 'quota',
        quota: `HubSpot daily API limit${h.get('x-hubspot-ratelimit-daily') ? ` (${h.get('x-hubspot-ratelimit-daily')} requests)` : ''}`,
        resetsAt,
        message: `${typeof b.message === 'string' ? b.message : 'daily limit reached'}; it resets at midnight ${timeZone ?? 'in the account time zone (estimated as UTC: set account_time_zone)'}`,
      };
    }
    const retryAfter = parseRetryAfter(h.get('retry-after'));
    if (retryAfter !== undefined) return undefined;
    if (b.policyName === 'SECONDLY') return { kind: 'transient', retryAfterMs: 1000 };
    const interval = Number(h.get('x-hubspot-ratelimit-interval-milliseconds'));
    if (b.policyName === 'TEN_SECONDLY_ROLLING' || interval > 0) return { kind: 'transient', retryAfterMs: interval > 0 ? interval : 10_000 };
    return undefined;
  };
}

/** The next 00:00 in `timeZone` (UTC when not given) after `from`. */
export function nextMidnight(from: Date, timeZone?: string): Date {
  const zone = timeZone ?? 'UTC';
  const parts = (at: number) => {
    const p = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
        .formatToParts(at)
        .map((x) => [x.type, Number(x.value)]),
    );
    return p as Record<string, number>;
  };
  const offset = (at: number) => {
    const p = parts(at);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(at / 1000) * 1000;
  };
  const today = parts(from.getTime());
  const wall = Date.UTC(today.year, today.month - 1, today.day + 1);
  // Two passes: the offset at the guessed instant may differ from the offset at midnight across DST.
  let at = wall - offset(wall);
  at = wall - offset(at);
  return new Date(at);
}

/** HubSpot's error body (`{ message, category, errors: [{ context: { requiredScopes } }] }`) in a sentence. */
function describe(body: any): { message: string; scopes: string[] } {
  const scopes = new Set<string>();
  for (const e of Array.isArray(body?.errors) ? body.errors : []) {
    for (const s of [...(e?.context?.requiredScopes ?? []), ...(e?.context?.requiredGranularScopes ?? [])]) scopes.add(String(s));
  }
  const message = typeof body?.message === 'string' ? body.message : typeof body === 'string' && body.trim() && !body.trim().startsWith('<') ? body.trim() : 'no message';
  return { message: message.length > 300 ? `${message.slice(0, 300)}…` : message, scopes: [...scopes] };
}

/**
 * The library's ApiException (one class per generated module, hence duck-typed) as a TouchpointError.
 * Our transport already retried what could be retried and threw QuotaError/CancelledError itself; what
 * arrives here is final: 401/403 (AuthError), other 4xx, or 429/5xx once the attempts were spent.
 */
export function translate(error: unknown, what: string, where: string, privateApp: boolean): TouchpointError {
  if (error instanceof AuthError) {
    // Ours (the token exchange) already says what to check; the engine client's generic 401/403 does not.
    if (error.message.startsWith('HubSpot')) return error;
    return new AuthError(error.message, { where, hint: authHint(error.message.startsWith('permission denied') ? 403 : 401, [], privateApp), cause: error });
  }
  if (error instanceof TouchpointError) return error;
  const e = error as { code?: unknown; body?: unknown };
  if (typeof e?.code !== 'number' || !('body' in (e as object))) {
    return new RunError(`${what}: ${error instanceof Error ? error.message : String(error)}`, { where, cause: error });
  }
  const status = e.code;
  const { message, scopes } = describe(e.body);
  if (status === 401 || status === 403) {
    const problem = status === 401 ? 'HubSpot rejected the credentials' : 'HubSpot denied access';
    return new AuthError(`${problem} while ${what} (${status}): ${message}`, { where, hint: authHint(status, scopes, privateApp), cause: error });
  }
  const transient = status === 429 || status >= 500;
  return new RunError(`${what} failed (${status}): ${message}${transient ? ' — retries exhausted' : ''}`, {
    where,
    transient,
    hint: transient
      ? 'HubSpot kept failing; the next run resumes from the last committed state (attempts and waits: settings.retry)'
      : status === 404
        ? 'check base_url and the object names'
        : 'HubSpot refused the request; check the configured property names (properties:) and base_url',
    cause: error,
  });
}

function authHint(status: number, scopes: string[], privateApp: boolean): string {
  if (status === 403) {
    const need = scopes.length > 0 ? scopes.join(', ') : 'crm.objects.contacts.read, crm.objects.companies.read, crm.objects.deals.read and forms';
    return `the ${privateApp ? 'private app' : 'OAuth app'} lacks a scope this stream needs (${need}): add it in the app's settings${privateApp ? '' : ' and reinstall the app'}`;
  }
  return privateApp
    ? 'check access_token: a private app token (Settings › Integrations › Private apps › Auth); a rotated token or a deleted app stops working'
    : 'check client_id, client_secret and refresh_token, and that the app is still installed in the HubSpot account';
}

