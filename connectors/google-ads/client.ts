// The only file of this connector that talks HTTP. It exchanges the OAuth refresh token for access
// tokens (cached until shortly before they expire), sends GAQL to GoogleAdsService.SearchStream over
// REST through the engine's HTTP client, and turns Google Ads error bodies into our error family:
// quota (daily operations spent), transient (rate limited, with Google's retry delay), auth (with a
// hint that names the credential to fix) or terminal. googleapis has no Google Ads client, so this is
// plain fetch via ctx.http.
import { createHash } from 'node:crypto';
import { AuthError, QuotaError, RunError, TouchpointError } from '../../core/sdk/index.ts';
import type { HttpClient, ReadContext, ResponseClassifier, ResponseVerdict } from '../../core/sdk/index.ts';

export interface GoogleAdsConfig {
  customer_id: string;
  login_customer_id?: string;
  developer_token: string;
  client_id: string;
  client_secret: string;
  refresh_token: string;
  token_url?: string;
  base_url?: string;
  api_version?: string;
  start_date?: string;
  end_date?: string;
  lookback_days?: number;
  window_days?: number;
}

export const DEFAULT_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const DEFAULT_BASE_URL = 'https://googleads.googleapis.com';
// "If you are new to the Google Ads API, we recommend that you start with v26"
// (https://developers.google.com/google-ads/api/docs/sunset-dates, November 2026; v21 sunset 5 Aug 2026).
export const DEFAULT_API_VERSION = 'v26';

/** One GoogleAdsRow as REST returns it: lowerCamelCase resources, int64 as strings, enums as names. */
export type GoogleAdsRow = Record<string, any>;

/** What a Google Ads error body says, whichever of its shapes it came in. */
export interface GoogleAdsFailure {
  /** google.rpc.Status name: UNAUTHENTICATED, PERMISSION_DENIED, RESOURCE_EXHAUSTED … */
  status?: string;
  /** The first GoogleAdsError's code, e.g. { family: 'quotaError', value: 'RESOURCE_EXHAUSTED' }. */
  family?: string;
  value?: string;
  message?: string;
  /** QuotaErrorDetails.retryDelay in ms (a protobuf Duration such as "30s"). */
  retryDelayMs?: number;
  requestId?: string;
}

/**
 * Reads `{ error: { code, message, status, details: [{ '@type': '…GoogleAdsFailure', errors: [{
 * errorCode: { quotaError: 'RESOURCE_EXHAUSTED' }, message, details: { quotaErrorDetails: { retryDelay }
 * } }], requestId }] } }`. SearchStream wraps it in an array (`[{ error: … }]`), as it does its results.
 * Reference: https://developers.google.com/google-ads/api/reference/rpc/latest/GoogleAdsFailure and
 * …/QuotaErrorDetails.
 */
export function readGoogleAdsError(body: unknown): GoogleAdsFailure | undefined {
  const holder = Array.isArray(body) ? body.find((b) => b && typeof b === 'object' && 'error' in b) : body;
  const error = (holder as { error?: unknown } | undefined)?.error;
  if (!error || typeof error !== 'object') return undefined;
  const e = error as { message?: unknown; status?: unknown; details?: unknown };
  const details = Array.isArray(e.details) ? (e.details as Record<string, any>[]) : [];
  const failure = details.find((d) => typeof d?.['@type'] === 'string' && d['@type'].endsWith('.GoogleAdsFailure'));
  const first = Array.isArray(failure?.errors) ? failure.errors[0] : undefined;
  const [family, value] = first?.errorCode && typeof first.errorCode === 'object' ? (Object.entries(first.errorCode)[0] ?? []) : [];
  return {
    status: typeof e.status === 'string' ? e.status : undefined,
    family: typeof family === 'string' ? family : undefined,
    value: typeof value === 'string' ? value : undefined,
    message: text(first?.message) ?? text(e.message),
    retryDelayMs: parseDuration(first?.details?.quotaErrorDetails?.retryDelay),
    requestId: text(failure?.requestId),
  };
}

/** A protobuf Duration in its JSON form ("30s", "1.5s") in ms. */
function parseDuration(value: unknown): number | undefined {
  const m = typeof value === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(value.trim()) : null;
  return m ? Math.ceil(Number(m[1]) * 1000) : undefined;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

// QuotaError values (https://developers.google.com/google-ads/api/reference/rpc/latest/QuotaErrorEnum.QuotaError):
// the short-term ones clear in seconds (rate limits are a token bucket per developer token and per
// customer: https://developers.google.com/google-ads/api/docs/productionize/rate-limits); the others
// mean the daily operations budget of the developer token is spent.
const SHORT_TERM = new Set(['RESOURCE_TEMPORARILY_EXHAUSTED', 'EXCESSIVE_SHORT_TERM_QUERY_RESOURCE_CONSUMPTION']);

/** Our reading of a Google Ads API error response (see ResponseClassifier). */
export function verdictFor(status: number, failure: GoogleAdsFailure | undefined, now = Date.now()): ResponseVerdict | undefined {
  if (!failure) return undefined;
  const said = [failure.value, failure.message].filter(Boolean).join(': ') + (failure.requestId ? ` (request id ${failure.requestId})` : '');
  const message = said || undefined;
  if (failure.family === 'quotaError') {
    if (failure.value && SHORT_TERM.has(failure.value)) return { kind: 'transient', retryAfterMs: failure.retryDelayMs, message };
    if (failure.value === 'ACCESS_PROHIBITED') return { kind: 'auth', message };
    const resetsAt = failure.retryDelayMs === undefined ? undefined : new Date(now + failure.retryDelayMs);
    return { kind: 'quota', quota: 'Google Ads API operations', resetsAt, message };
  }
  if (failure.family === 'authenticationError' || failure.family === 'authorizationError') return { kind: 'auth', message };
  if (failure.family === 'internalError' && failure.value === 'TRANSIENT_ERROR') return { kind: 'transient', message };
  // Keep the generic rules (401/403 auth, 429/5xx retry, other 4xx terminal) with the vendor's words:
  // the engine cannot read a message out of an array-wrapped body.
  if (status === 401 || status === 403) return { kind: 'auth', message };
  if (status === 429 || status >= 500) return { kind: 'transient', message };
  return { kind: 'terminal', message };
}

/** What to tell the user for an auth failure, by the Google Ads error code behind it. */
export function authHint(failure: GoogleAdsFailure | undefined): string {
  switch (failure?.value) {
    case 'DEVELOPER_TOKEN_NOT_APPROVED':
      return 'the developer token only has Test Account Access: apply for Basic Access in the Google Ads API Center (https://developers.google.com/google-ads/api/docs/api-policy/access-levels), or point customer_id at a test account';
    case 'DEVELOPER_TOKEN_PROHIBITED':
    case 'DEVELOPER_TOKEN_INVALID':
      return 'developer_token is not valid for this Google Cloud project: copy it again from the API Center of your manager account';
    case 'USER_PERMISSION_DENIED':
      return 'the OAuth user cannot access customer_id directly: set login_customer_id to the manager account that links it, or grant the user access to the account';
    case 'CUSTOMER_NOT_ENABLED':
      return 'customer_id is not enabled (cancelled or not yet set up) in Google Ads';
    case 'OAUTH_TOKEN_EXPIRED':
    case 'OAUTH_TOKEN_INVALID':
    case 'OAUTH_TOKEN_REVOKED':
    case 'OAUTH_TOKEN_DISABLED':
      return 'Google refused the access token minted from refresh_token: create a new refresh token with the adwords scope';
    case 'NOT_ADS_USER':
      return 'the Google account behind refresh_token has no Google Ads access: authorize with a user of the account';
    case 'ACCESS_PROHIBITED':
      return 'the developer token is prohibited from this call; check its access level in the API Center';
    default:
      return 'check developer_token, client_id/client_secret/refresh_token and that the OAuth user can access customer_id (login_customer_id for manager accounts)';
  }
}

// Access tokens live an hour (expires_in ≈ 3599 s); refresh a minute early so a long SearchStream
// response is never cut off by expiry.
const EXPIRY_MARGIN_MS = 60_000;
const tokens = new Map<string, { accessToken: string; expiresAt: number }>();

export interface GoogleAdsClient {
  /** Runs one GAQL query; returns the rows of every SearchStream batch in order. */
  searchStream(query: string): Promise<GoogleAdsRow[]>;
}

export function digits(id: string): string {
  return id.replace(/\D/g, '');
}

type ClientContext = Pick<ReadContext<GoogleAdsConfig>, 'config' | 'http' | 'log'>;

export function createGoogleAdsClient(ctx: ClientContext): GoogleAdsClient {
  const c = ctx.config;
  const tokenUrl = c.token_url ?? DEFAULT_TOKEN_URL;
  const cacheKey = createHash('sha256').update([tokenUrl, c.client_id, c.refresh_token].join('\0')).digest('hex');
  // The code behind the last refused call, so the AuthError can say which credential to fix.
  let lastFailure: GoogleAdsFailure | undefined;
  const classify: ResponseClassifier = (response, body) => {
    lastFailure = readGoogleAdsError(body);
    return verdictFor(response.status, lastFailure);
  };
  const headers: Record<string, string> = { 'developer-token': c.developer_token };
  if (c.login_customer_id) headers['login-customer-id'] = digits(c.login_customer_id);
  const api = ctx.http.extend({ baseUrl: `${(c.base_url ?? DEFAULT_BASE_URL).replace(/\/+$/, '')}/${c.api_version ?? DEFAULT_API_VERSION}`, headers, classify });

  async function accessToken(): Promise<{ token: string; fresh: boolean }> {
    const cached = tokens.get(cacheKey);
    if (cached && cached.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return { token: cached.accessToken, fresh: false };
    const got = await refresh(ctx.http, tokenUrl, c);
    tokens.set(cacheKey, got);
    return { token: got.accessToken, fresh: true };
  }

  return {
    async searchStream(query) {
      const path = `customers/${digits(c.customer_id)}/googleAds:searchStream`;
      const call = (token: string) => api.request<unknown>({ method: 'POST', url: path, body: { query }, headers: { authorization: `Bearer ${token}` } });
      let { token, fresh } = await accessToken();
      let response;
      try {
        try {
          response = await call(token);
        } catch (error) {
          // A cached token revoked or expired early: mint one new token and try once more.
          const tokenProblem = lastFailure?.value?.startsWith('OAUTH_TOKEN') || (lastFailure?.status === 'UNAUTHENTICATED' && !lastFailure.family);
          if (fresh || !(error instanceof AuthError) || !tokenProblem) throw error;
          tokens.delete(cacheKey);
          ({ token, fresh } = await accessToken());
          response = await call(token);
        }
      } catch (error) {
        if (error instanceof AuthError) throw new AuthError(error.message, { where: error.where, hint: authHint(lastFailure), cause: error });
        throw error;
      }
      return rowsOf(response.body);
    },
  };
}

/** The rows of a SearchStream response: `[{ results, fieldMask, requestId }, …]`. */
function rowsOf(body: unknown): GoogleAdsRow[] {
  if (!Array.isArray(body)) {
    throw new RunError(`SearchStream answered with ${body === null ? 'an empty body' : typeof body} instead of a JSON array of batches`, {
      hint: 'check base_url: it must be the Google Ads API root (https://googleads.googleapis.com)',
    });
  }
  const rows: GoogleAdsRow[] = [];
  for (const batch of body) {
    // A failure after the response started streaming arrives as a trailing { error } element.
    const failure = readGoogleAdsError([batch]);
    if (failure) throw inBandError(failure);
    if (Array.isArray(batch?.results)) rows.push(...(batch.results as GoogleAdsRow[]));
  }
  return rows;
}

function inBandError(failure: GoogleAdsFailure): TouchpointError {
  const verdict = verdictFor(500, failure);
  const message = `SearchStream failed while streaming: ${verdict?.message ?? 'unknown error'}`;
  if (verdict?.kind === 'quota') return new QuotaError(message, { quota: verdict.quota, resetsAt: verdict.resetsAt });
  if (verdict?.kind === 'auth') return new AuthError(message, { hint: authHint(failure) });
  return new RunError(message, { transient: verdict?.kind === 'transient', hint: 'the next run resumes from the last committed window' });
}

interface TokenResponse {
  access_token?: string;
  expires_in?: number;
}

/** The refresh-token grant (RFC 6749 §6) against Google's token endpoint. */
async function refresh(http: HttpClient, tokenUrl: string, c: GoogleAdsConfig): Promise<{ accessToken: string; expiresAt: number }> {
  let oauthError: string | undefined;
  const classify: ResponseClassifier = (_response, body) => {
    const b = body as { error?: unknown; error_description?: unknown } | null;
    if (typeof b?.error !== 'string') return undefined;
    oauthError = b.error;
    const message = typeof b.error_description === 'string' ? `${b.error}: ${b.error_description}` : b.error;
    // RFC 6749 §5.2: these mean the credentials are wrong, whatever the status (Google sends 400 or 401).
    if (['invalid_grant', 'invalid_client', 'unauthorized_client', 'invalid_scope'].includes(b.error)) return { kind: 'auth', message };
    return undefined;
  };
  const body = new URLSearchParams({ grant_type: 'refresh_token', client_id: c.client_id, client_secret: c.client_secret, refresh_token: c.refresh_token });
  let response;
  try {
    response = await http.extend({ classify }).request<TokenResponse>({ method: 'POST', url: tokenUrl, body });
  } catch (error) {
    if (error instanceof AuthError) {
      const hint =
        oauthError === 'invalid_grant'
          ? 'refresh_token is expired or revoked: create a new one. Refresh tokens of an OAuth app in "Testing" publishing status expire after 7 days (https://developers.google.com/identity/protocols/oauth2#expiration)'
          : oauthError === 'invalid_client'
            ? 'client_id/client_secret do not match an OAuth client of your Google Cloud project'
            : 'check client_id, client_secret and refresh_token (the token must carry the https://www.googleapis.com/auth/adwords scope)';
      throw new AuthError(`OAuth token refresh failed: ${error.message}`, { where: error.where, hint, cause: error });
    }
    throw error;
  }
  const token = response.body?.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new RunError('the OAuth token endpoint answered without an access_token', { hint: 'check token_url: it must be Google\'s token endpoint (https://oauth2.googleapis.com/token)' });
  }
  const seconds = typeof response.body.expires_in === 'number' ? response.body.expires_in : 3600;
  return { accessToken: token, expiresAt: Date.now() + seconds * 1000 };
}

/** Forgets cached access tokens (tests; a process that rotates credentials). */
export function clearTokenCache(): void {
  tokens.clear();
}
