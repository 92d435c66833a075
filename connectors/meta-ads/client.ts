// The only file of this connector that talks HTTP: the Graph API Insights edge of an ad account, read
// synchronously page by page (`paging.cursors.after`) or through an asynchronous report job (create,
// poll `async_status`, read its pages). The token travels in the Authorization header so it never
// shows in URLs or logs. Graph error bodies are read here: throttling codes wait for the time the
// X-Business-Use-Case-Usage header gives (or stop with a QuotaError when that is longer than the retry
// policy allows), code 190 is an expired token, permission codes are auth errors with a hint.
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuthError, CancelledError, RunError } from '../../core/sdk/index.ts';
import type { HttpClient, ReadContext, ResponseClassifier, ResponseVerdict } from '../../core/sdk/index.ts';

export interface MetaAdsConfig {
  ad_account_id: string;
  access_token: string;
  app_secret?: string;
  base_url?: string;
  api_version?: string;
  start_date?: string;
  end_date?: string;
  lookback_days?: number;
  window_days?: number;
  page_size?: number;
  async?: boolean;
  async_after_days?: number;
  poll_interval_ms?: number;
  async_timeout_ms?: number;
}

export const DEFAULT_BASE_URL = 'https://graph.facebook.com';
// The newest Graph/Marketing API version (29 July 2026): https://developers.facebook.com/docs/graph-api/changelog/versions
export const DEFAULT_API_VERSION = 'v26.0';
export const DEFAULT_PAGE_SIZE = 500;
export const DEFAULT_POLL_INTERVAL_MS = 5000;
export const DEFAULT_ASYNC_TIMEOUT_MS = 30 * 60_000;

/** The insights fields we ask for (https://developers.facebook.com/docs/marketing-api/reference/adgroup/insights/). */
export const INSIGHTS_FIELDS = [
  'account_id',
  'campaign_id',
  'campaign_name',
  'spend',
  'clicks',
  'impressions',
  'account_currency',
  'date_start',
  'date_stop',
  'actions',
  'action_values',
];

/** One insights row as the Graph API sends it: numbers as strings, dates in the account's time zone. */
export type InsightsRow = Record<string, any>;

export interface GraphError {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  is_transient?: boolean;
  error_user_msg?: string;
  fbtrace_id?: string;
}

export function readGraphError(body: unknown): GraphError | undefined {
  const e = (body as { error?: unknown } | null)?.error;
  return e && typeof e === 'object' ? (e as GraphError) : undefined;
}

// Throttling codes: 4 app, 17 user, 32 page, 613 custom/ad account, 80000–80014 Business Use Case
// limits (80000 is ads_insights). https://developers.facebook.com/docs/graph-api/overview/rate-limiting,
// https://developers.facebook.com/docs/marketing-api/overview/rate-limiting
const THROTTLE_CODES = new Set([4, 17, 32, 613]);
export function isThrottle(code: number | undefined): boolean {
  return code !== undefined && (THROTTLE_CODES.has(code) || (code >= 80000 && code <= 80014));
}

/**
 * The wait the X-Business-Use-Case-Usage header announces, in ms: its entries are keyed by business
 * object id, each a list of `{ type, call_count, total_cputime, total_time,
 * estimated_time_to_regain_access }` with the last in minutes. The longest wait wins; 0 means none.
 */
export function bucWaitMs(header: string | null): number | undefined {
  if (!header) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch {
    return undefined;
  }
  let minutes = 0;
  for (const entries of Object.values((parsed ?? {}) as Record<string, unknown>)) {
    for (const e of Array.isArray(entries) ? entries : []) {
      const m = Number((e as { estimated_time_to_regain_access?: unknown })?.estimated_time_to_regain_access);
      if (Number.isFinite(m) && m > minutes) minutes = m;
    }
  }
  return minutes > 0 ? minutes * 60_000 : undefined;
}

/** Our reading of a Graph API error (https://developers.facebook.com/docs/graph-api/guides/error-handling). */
export function verdictFor(status: number, error: GraphError | undefined, bucHeader: string | null, maxDelayMs: number, now = Date.now()): ResponseVerdict | undefined {
  if (!error) return undefined;
  const code = error.code;
  const message = [error.message, error.error_user_msg, error.fbtrace_id ? `(fbtrace_id ${error.fbtrace_id})` : undefined].filter(Boolean).join(' ') || undefined;
  if (code === 190 || code === 102 || code === 104 || code === 10 || (code !== undefined && code >= 200 && code <= 299)) return { kind: 'auth', message };
  // "Object with ID … does not exist, cannot be loaded due to missing permissions": the account id or its access.
  if (code === 100 && error.error_subcode === 33) return { kind: 'auth', message };
  if (isThrottle(code)) {
    const wait = bucWaitMs(bucHeader);
    if (wait !== undefined && wait > maxDelayMs) return { kind: 'quota', quota: `Meta rate limit (code ${code})`, resetsAt: new Date(now + wait), message };
    return { kind: 'transient', retryAfterMs: wait, message };
  }
  // 1 unknown and 2 service errors are temporary downtime; Graph also flags others as is_transient.
  if (code === 1 || code === 2 || error.is_transient === true) return { kind: 'transient', message };
  if (status === 401 || status === 403) return { kind: 'auth', message };
  if (status === 429 || status >= 500) return { kind: 'transient', message };
  return { kind: 'terminal', message };
}

export function authHint(error: GraphError | undefined): string {
  if (error?.code === 190 || error?.code === 102 || error?.code === 104) {
    return 'access_token is expired or invalid: user tokens expire (about 60 days for long-lived ones); use a System User token from Business Manager, which does not expire';
  }
  if (error?.code === 100 && error.error_subcode === 33) return 'check ad_account_id, and that the token\'s user or System User is assigned to that ad account';
  return 'the token needs the ads_read permission and access to the ad account (Business Manager → System Users → Assign assets)';
}

/** Extra insights hint for errors that are not auth. */
function dataHint(error: GraphError | undefined): string | undefined {
  // Error 100 / 1487534: too much data for one call (https://developers.facebook.com/docs/marketing-api/insights/best-practices/).
  if (error?.code === 100 && error.error_subcode === 1487534) return 'Meta refused the amount of data: lower window_days, or set async: true';
  return undefined;
}

export interface InsightsQuery {
  since: string;
  until: string;
  async: boolean;
}

export interface MetaClient {
  /** Insights rows for the date range, one page at a time. */
  insights(q: InsightsQuery): AsyncGenerator<InsightsRow[]>;
  /** The ad account itself (check). */
  account(): Promise<Record<string, unknown>>;
}

export function accountPath(adAccountId: string): string {
  return `act_${adAccountId.replace(/^act_/, '')}`;
}

type ClientContext = Pick<ReadContext<MetaAdsConfig>, 'config' | 'http' | 'log' | 'signal' | 'options'>;

interface Page {
  data?: InsightsRow[];
  paging?: { cursors?: { after?: string }; next?: string };
}

interface ReportRun {
  id?: string;
  async_status?: string;
  async_percent_completion?: number;
  error_message?: string;
  error_user_msg?: string;
}

export function createMetaClient(ctx: ClientContext): MetaClient {
  const c = ctx.config;
  let lastError: GraphError | undefined;
  const classify: ResponseClassifier = (response, body) => {
    lastError = readGraphError(body);
    return verdictFor(response.status, lastError, response.headers.get('x-business-use-case-usage'), ctx.options.retry.maxDelayMs);
  };
  const api: HttpClient = ctx.http.extend({
    baseUrl: `${(c.base_url ?? DEFAULT_BASE_URL).replace(/\/+$/, '')}/${c.api_version ?? DEFAULT_API_VERSION}`,
    headers: { authorization: `Bearer ${c.access_token}` },
    classify,
  });
  // https://developers.facebook.com/docs/graph-api/securing-requests#appsecret_proof
  const proof: Record<string, string> = c.app_secret ? { appsecret_proof: createHmac('sha256', c.app_secret).update(c.access_token).digest('hex') } : {};
  const pageSize = c.page_size ?? DEFAULT_PAGE_SIZE;

  async function call<T>(run: () => Promise<{ body: T }>): Promise<T> {
    try {
      return (await run()).body;
    } catch (error) {
      if (error instanceof AuthError) throw new AuthError(error.message, { where: error.where, hint: authHint(lastError), cause: error });
      const hint = dataHint(lastError);
      if (hint && error instanceof RunError) throw new RunError(error.message, { where: error.where, hint, transient: error.transient, cause: error });
      throw error;
    }
  }

  async function* pages(path: string, params: Record<string, string | number>): AsyncGenerator<InsightsRow[]> {
    let after: string | undefined;
    for (;;) {
      const page = await call(() => api.get<Page>(path, { ...params, ...proof, limit: pageSize, after }));
      yield Array.isArray(page?.data) ? page.data : [];
      after = page?.paging?.cursors?.after;
      // No `next` means this was the last page (https://developers.facebook.com/docs/graph-api/results).
      if (!page?.paging?.next || !after) return;
    }
  }

  async function waitFor(runId: string): Promise<void> {
    const started = Date.now();
    const timeout = c.async_timeout_ms ?? DEFAULT_ASYNC_TIMEOUT_MS;
    for (;;) {
      const run = await call(() => api.get<ReportRun>(runId, { ...proof }));
      const status = run?.async_status ?? '';
      // Results are ready once the job says Completed at 100 % (https://developers.facebook.com/docs/marketing-api/insights/best-practices/).
      if (status === 'Job Completed' && (run.async_percent_completion ?? 100) >= 100) return;
      if (status === 'Job Failed' || status === 'Job Skipped') {
        const why = run.error_user_msg ?? run.error_message;
        throw new RunError(`insights report job ${runId}: ${status}${why ? `: ${why}` : ''}`, {
          transient: status === 'Job Failed',
          hint: 'Meta could not compute the report; lower window_days if it keeps failing. The next run resumes from the last committed window',
        });
      }
      if (Date.now() - started > timeout) {
        throw new RunError(`insights report job ${runId} still ${status || 'pending'} (${run.async_percent_completion ?? 0} %) after ${Math.round(timeout / 1000)} s`, {
          transient: true,
          hint: 'raise async_timeout_ms or lower window_days; the next run resumes from the last committed window',
        });
      }
      ctx.log.debug(`report job ${runId}: ${status} ${run.async_percent_completion ?? 0} %`);
      try {
        await sleep(c.poll_interval_ms ?? DEFAULT_POLL_INTERVAL_MS, undefined, { signal: ctx.signal });
      } catch (error) {
        throw new CancelledError(`run cancelled while waiting for report job ${runId}`, { cause: error });
      }
    }
  }

  const account = accountPath(c.ad_account_id);
  return {
    async *insights(q) {
      const params = {
        level: 'campaign',
        time_increment: 1,
        time_range: JSON.stringify({ since: q.since, until: q.until }),
        fields: INSIGHTS_FIELDS.join(','),
      };
      if (!q.async) {
        yield* pages(`${account}/insights`, params);
        return;
      }
      const form = new URLSearchParams({ ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])), ...proof });
      const created = await call(() => api.request<{ report_run_id?: string }>({ method: 'POST', url: `${account}/insights`, body: form }));
      const runId = created?.report_run_id;
      if (!runId) throw new RunError('creating the insights report job returned no report_run_id', { hint: 'check base_url: it must be the Graph API root' });
      await waitFor(String(runId));
      yield* pages(`${runId}/insights`, {});
    },
    account: () => call(() => api.get<Record<string, unknown>>(account, { fields: 'id,name,currency,timezone_name,account_status', ...proof })),
  };
}
