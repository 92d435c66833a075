// How the two GA4 connectors read Google's JSON error bodies, and how a googleapis (gaxios) failure
// becomes one of our errors. Google APIs answer `{ error: { code, message, errors: [{ reason }], status } }`
// (https://cloud.google.com/apis/design/errors). BigQuery signals rate limits and quotas with HTTP 403
// and `reason` (https://cloud.google.com/bigquery/docs/troubleshoot-quotas): rateLimitExceeded is a
// short-term limit to retry with backoff, quotaExceeded a longer-term one. The Analytics Data API
// answers 429 RESOURCE_EXHAUSTED naming the spent property quota in the message ("Exhausted property
// tokens per day …", https://developers.google.com/analytics/devguides/reporting/data/v1/quotas).
import { AuthError, HttpError, QuotaError, RunError, TouchpointError } from '../../core/sdk/index.ts';
import type { ResponseClassifier, ResponseVerdict } from '../../core/sdk/index.ts';

interface GoogleErrorBody {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    errors?: { reason?: string; message?: string }[];
    details?: { reason?: string }[];
  };
}

export interface GoogleError {
  status: number;
  message?: string;
  reason?: string;
  /** The gRPC-style status (UNAUTHENTICATED, RESOURCE_EXHAUSTED …). */
  code?: string;
}

/** The Google error in a response body, or undefined when it is not one. */
export function googleError(status: number, body: unknown): GoogleError | undefined {
  const e = (body as GoogleErrorBody | null)?.error;
  if (!e || typeof e !== 'object') return undefined;
  const reason = e.errors?.find((x) => typeof x?.reason === 'string')?.reason ?? e.details?.find((x) => typeof x?.reason === 'string')?.reason;
  return { status, message: typeof e.message === 'string' ? e.message : undefined, reason, code: typeof e.status === 'string' ? e.status : undefined };
}

// Limits measured per second or minute pass by themselves; the rest are a spent quota for this run.
const SHORT_TERM = /per (second|minute|100 seconds)|concurrent/i;

/** The Data API's property quotas, named as in PropertyQuota (returnPropertyQuota: true). */
function propertyQuota(message: string): string | undefined {
  if (/tokens per day/i.test(message)) return 'tokensPerDay';
  if (/tokens per (hour for a project|project per hour)/i.test(message)) return 'tokensPerProjectPerHour';
  if (/tokens per hour/i.test(message)) return 'tokensPerHour';
  if (/server errors/i.test(message)) return 'serverErrorsPerProjectPerHour';
  if (/potentially thresholded/i.test(message)) return 'potentiallyThresholdedRequestsPerHour';
  if (/concurrent/i.test(message)) return 'concurrentRequests';
  return undefined;
}

/** Verdict on a Google error (undefined: the generic status rules apply). */
export function judgeGoogleError(e: GoogleError | undefined, now = Date.now()): ResponseVerdict | undefined {
  if (!e) return undefined;
  const message = e.message;
  const text = message ?? '';
  if (e.reason === 'rateLimitExceeded' || e.reason === 'userRateLimitExceeded' || e.reason === 'backendError') {
    return { kind: 'transient', message };
  }
  const quota = propertyQuota(text) ?? /quota for ([^.]+)/i.exec(text)?.[1]?.trim();
  // RESOURCE_EXHAUSTED alone is also a plain "slow down"; it is a spent quota when the message names one.
  if (e.reason === 'quotaExceeded' || e.reason === 'dailyLimitExceeded' || (e.code === 'RESOURCE_EXHAUSTED' && quota)) {
    if (SHORT_TERM.test(text)) return { kind: 'transient', message };
    const name = quota ?? e.reason ?? 'quota';
    // "These quota tokens will return in under an hour": an upper bound for the hourly ones.
    const resetsAt = /PerHour/.test(name) || /per hour/i.test(text) ? new Date(now + 3_600_000) : undefined;
    return { kind: 'quota', quota: name, message, resetsAt };
  }
  if (e.code === 'UNAUTHENTICATED' || e.status === 401) return { kind: 'auth', message };
  if (e.reason === 'accessNotConfigured' || e.code === 'SERVICE_DISABLED' || /has not been used in project|is disabled/i.test(text)) {
    return { kind: 'terminal', message };
  }
  return undefined;
}

/** ctx.http classify hook for Google APIs. */
export const googleClassifier: ResponseClassifier = (response, body) => judgeGoogleError(googleError(response.status, body));

/** What a connector says when its credentials or ids are wrong. */
export interface ErrorAdvice {
  /** For 401/403: what access the credentials need. */
  auth: string;
  /** For 404: which config values name the resource. */
  notFound: string;
  /** For other 4xx: which config values the request used. */
  badRequest?: string;
  /** Attempts the retry policy made (for the message when it gave up). */
  attempts: number;
}

interface GaxiosLike {
  message?: string;
  cause?: unknown;
  response?: { status?: number; statusText?: string; data?: unknown };
  config?: { url?: string | URL; method?: string };
}

function pathOf(url: string | URL | undefined): string {
  if (!url) return '';
  try {
    return new URL(String(url)).pathname;
  } catch {
    return String(url).split('?')[0];
  }
}

/**
 * A failure from a googleapis call → our error family. Errors our retrying fetch already raised
 * (QuotaError, CancelledError, network HttpError) come through gaxios as the `cause` and are rethrown
 * as they are; an HTTP failure gaxios saw is judged like the retry policy judged it.
 */
export function fromGoogleApiError(error: unknown, where: string, advice: ErrorAdvice): TouchpointError {
  if (error instanceof TouchpointError) return error;
  const g = error as GaxiosLike;
  if (g?.cause instanceof TouchpointError) return g.cause;
  const status = g?.response?.status;
  const shown = `${(g?.config?.method ?? 'GET').toUpperCase()} ${pathOf(g?.config?.url)}`;
  if (typeof status !== 'number') {
    return new RunError(`${shown} failed: ${g?.message ?? String(error)}`, { where, cause: error });
  }
  const e = googleError(status, g.response?.data);
  const verdict = judgeGoogleError(e);
  const vendor = e?.message ?? g.message;
  const line = `${status}${g.response?.statusText ? ` ${g.response.statusText}` : ''}`;
  if (verdict?.kind === 'quota') {
    return new QuotaError(`${shown}: ${verdict.quota} exhausted (${line}): ${vendor}`, {
      where,
      quota: verdict.quota,
      resetsAt: verdict.resetsAt,
      hint: 'wait for the quota to reset or ask Google for a higher one; the stream resumes from its last committed state',
    });
  }
  if (verdict?.kind === 'auth' || (!verdict && (status === 401 || status === 403))) {
    return new AuthError(`${status === 403 ? 'permission denied' : 'authentication failed'} (${line}): ${vendor}`, { where, hint: advice.auth, cause: error });
  }
  const transient = verdict?.kind === 'transient' || (!verdict && (status === 429 || status >= 500));
  if (transient) {
    return new HttpError(`${shown} failed after ${advice.attempts} attempts: ${line}: ${vendor}`, {
      where,
      transient: true,
      hint: 'the API kept failing; the next run resumes from the last committed state (attempts and waits: settings.retry)',
      method: (g.config?.method ?? 'GET').toUpperCase(),
      url: shown,
      status,
      attempts: advice.attempts,
      vendorMessage: vendor,
      cause: error,
    });
  }
  return new HttpError(`${shown} failed (${line}): ${vendor}`, {
    where,
    hint: status === 404 ? advice.notFound : verdict?.kind === 'terminal' ? 'enable the API for the Google Cloud project of the credentials (APIs & Services → Library)' : advice.badRequest,
    method: (g.config?.method ?? 'GET').toUpperCase(),
    url: shown,
    status,
    attempts: 1,
    vendorMessage: vendor,
    cause: error,
  });
}
