// The only file of this connector that talks to Google: googleapis' analyticsdata v1beta (loaded per
// API) with our retry policy as gaxios' fetch and gaxios' retries off. One call, runReport
// (https://developers.google.com/analytics/devguides/reporting/data/v1/rest/v1beta/properties/runReport):
// POST /v1beta/properties/{id}:runReport, limit and offset as int64 strings, returnPropertyQuota set so
// every answer says how many property tokens are left (https://developers.google.com/analytics/devguides/reporting/data/v1/quotas).
import { analyticsdata, auth } from 'googleapis/build/src/apis/analyticsdata/index.js';
import type { analyticsdata_v1beta } from 'googleapis/build/src/apis/analyticsdata/index.js';
import { QuotaError } from '../../core/sdk/index.ts';
import type { HttpClient, Logger } from '../../core/sdk/index.ts';
import { createTokenSource, withTokenSource } from '../ga4-bigquery/auth.ts';
import type { GoogleCredentials, TokenContext } from '../ga4-bigquery/auth.ts';
import { fromGoogleApiError, googleClassifier } from '../ga4-bigquery/google-errors.ts';

export const ANALYTICS_DATA_URL = 'https://analyticsdata.googleapis.com/';
export const ANALYTICS_SCOPES = ['https://www.googleapis.com/auth/analytics.readonly'] as const;

export type RunReportRequest = analyticsdata_v1beta.Schema$RunReportRequest;
export type RunReportResponse = analyticsdata_v1beta.Schema$RunReportResponse;
export type PropertyQuota = analyticsdata_v1beta.Schema$PropertyQuota;

export interface DataApiClient {
  runReport(request: RunReportRequest): Promise<RunReportResponse>;
}

export interface DataApiClientOptions {
  credentials: GoogleCredentials | undefined;
  propertyId: string;
  baseUrl?: string;
  ctx: TokenContext & { http: HttpClient; log: Logger; source: string; stream?: string; options: { retry: { maxAttempts: number } } };
}

/** "tokensPerDay 1200 used, 198800 left; tokensPerHour …" for logs and quota messages. */
export function describeQuota(quota: PropertyQuota | undefined): string | undefined {
  if (!quota) return undefined;
  const parts = Object.entries(quota)
    .filter(([, s]) => s && typeof s === 'object')
    .map(([name, s]) => `${name} ${s?.consumed ?? 0} used, ${s?.remaining ?? '?'} left`);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

export async function createDataApiClient(o: DataApiClientOptions): Promise<DataApiClient> {
  const { ctx } = o;
  const fetchToken = await createTokenSource(o.credentials, ctx, {
    scopes: ANALYTICS_SCOPES,
    access: `add the service account's email as a Viewer of GA4 property ${o.propertyId} (Admin → Property access management)`,
  });
  const api = analyticsdata({
    version: 'v1beta',
    auth: withTokenSource(new auth.OAuth2(), fetchToken),
    rootUrl: o.baseUrl ?? ANALYTICS_DATA_URL,
    // Our retrying fetch reads Google's error bodies (a RESOURCE_EXHAUSTED naming a property quota is
    // a QuotaError, not a retry); gaxios' own retry stays off so a wait never happens twice.
    fetchImplementation: ctx.http.extend({ classify: googleClassifier }).fetch,
    retry: false,
  });
  const where = ctx.stream ? `${ctx.source}/${ctx.stream}` : ctx.source;
  let lastQuota: PropertyQuota | undefined;
  return {
    async runReport(request) {
      try {
        const { data } = await api.properties.runReport({ property: `properties/${o.propertyId}`, requestBody: request });
        if (data.propertyQuota) {
          lastQuota = data.propertyQuota;
          const day = data.propertyQuota.tokensPerDay;
          ctx.log.debug(`property quota: ${describeQuota(data.propertyQuota)}`);
          if (day && typeof day.remaining === 'number' && day.remaining < 0.1 * ((day.consumed ?? 0) + day.remaining)) {
            ctx.log.warn(`GA4 property ${o.propertyId} has ${day.remaining} of its daily tokens left; runReport stops working when they run out`);
          }
        }
        return data;
      } catch (error) {
        const e = fromGoogleApiError(error, where, {
          auth: `check the credentials (scope analytics.readonly) and that their email is a Viewer of GA4 property ${o.propertyId} (Admin → Property access management)`,
          notFound: `check property_id (${o.propertyId}): GA4 Admin → Property details`,
          badRequest: 'check property_id and the metric names in sessions_metric, conversions_metric and revenue_metric (https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema)',
          attempts: ctx.options.retry.maxAttempts,
        });
        // Name the spent quota with the last numbers GA4 reported for it.
        const known = describeQuota(lastQuota);
        if (e instanceof QuotaError && known) {
          throw new QuotaError(`${e.message} (last reported: ${known})`, { where: e.where, quota: e.quota, resetsAt: e.resetsAt, hint: e.hint, cause: e });
        }
        throw e;
      }
    },
  };
}
