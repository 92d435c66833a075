// The only file of this connector that talks to BigQuery: googleapis' bigquery v2 (loaded per API, as
// googleapis' README suggests, instead of all of googleapis: ~150 ms instead of ~1.4 s) with our
// retry policy plugged in as gaxios' fetch and gaxios' own retries off, so every wait happens once and
// honours settings.retry. Calls used (https://cloud.google.com/bigquery/docs/reference/rest/v2/):
// tables.list, tables.get (schema, lastModifiedTime) and tabledata.list (rows as f/v, paged).
import { bigquery, auth } from 'googleapis/build/src/apis/bigquery/index.js';
import type { bigquery_v2 } from 'googleapis/build/src/apis/bigquery/index.js';
import type { HttpClient } from '../../core/sdk/index.ts';
import { createTokenSource, withTokenSource } from './auth.ts';
import type { GoogleCredentials, TokenContext } from './auth.ts';
import { fromGoogleApiError, googleClassifier } from './google-errors.ts';
import type { ErrorAdvice } from './google-errors.ts';
import type { TableField, TableRow } from './table-data.ts';

export const BIGQUERY_URL = 'https://bigquery.googleapis.com/';
// Read-only access to BigQuery is all tables.list / tables.get / tabledata.list need.
export const BIGQUERY_SCOPES = ['https://www.googleapis.com/auth/bigquery.readonly'] as const;

export interface BigQueryTarget {
  projectId: string;
  datasetId: string;
}

export interface TableInfo {
  tableId: string;
  fields: TableField[];
  numRows: number;
  /** Epoch ms as BigQuery reports it (a string of digits). */
  lastModifiedTime: string;
}

export interface DataPage {
  rows: TableRow[];
  pageToken?: string;
  totalRows: number;
}

export interface BigQueryClient {
  /** Every table id in the dataset (tables.list, all pages). */
  listTables(): Promise<string[]>;
  getTable(tableId: string): Promise<TableInfo>;
  /** One page of rows: from `startIndex` (a row offset) or from a page token. */
  readPage(tableId: string, page: { pageToken?: string; startIndex?: number; maxResults: number }): Promise<DataPage>;
}

export interface BigQueryClientOptions {
  credentials: GoogleCredentials | undefined;
  target: BigQueryTarget;
  /** API root (scheme, host, port: googleapis replaces the origin of its URLs with it). */
  baseUrl?: string;
  ctx: TokenContext & { http: HttpClient; source: string; stream?: string; options: { retry: { maxAttempts: number } } };
}

export async function createBigQueryClient(o: BigQueryClientOptions): Promise<BigQueryClient> {
  const { ctx, target } = o;
  const fetchToken = await createTokenSource(o.credentials, ctx, {
    scopes: BIGQUERY_SCOPES,
    access: 'the principal needs BigQuery Data Viewer (bigquery.tables.list, .get, .getData) on the dataset',
  });
  const api = bigquery({
    version: 'v2',
    auth: withTokenSource(new auth.OAuth2(), fetchToken),
    rootUrl: o.baseUrl ?? BIGQUERY_URL,
    // gaxios calls our retrying fetch (which reads Google's error bodies: a 403 rateLimitExceeded is a
    // retry, not a permission problem); gaxios' own retry stays off so a wait never happens twice.
    fetchImplementation: ctx.http.extend({ classify: googleClassifier }).fetch,
    retry: false,
  });
  const where = ctx.stream ? `${ctx.source}/${ctx.stream}` : ctx.source;
  const dataset = `${target.projectId}:${target.datasetId}`;
  const advice: ErrorAdvice = {
    auth: `check the credentials and that they may read dataset ${dataset} (BigQuery Data Viewer, scope bigquery.readonly)`,
    notFound: `check project_id and dataset (${dataset}): GA4 exports to analytics_<property id> in the project linked under GA4 Admin → BigQuery links`,
    attempts: ctx.options.retry.maxAttempts,
  };
  async function call<T>(run: () => Promise<{ data: T }>): Promise<T> {
    try {
      return (await run()).data;
    } catch (error) {
      throw fromGoogleApiError(error, where, advice);
    }
  }

  return {
    async listTables() {
      const ids: string[] = [];
      let pageToken: string | undefined;
      do {
        const page: bigquery_v2.Schema$TableList = await call(() =>
          api.tables.list({ projectId: target.projectId, datasetId: target.datasetId, maxResults: 1000, pageToken }),
        );
        for (const t of page.tables ?? []) if (t.tableReference?.tableId) ids.push(t.tableReference.tableId);
        pageToken = page.nextPageToken ?? undefined;
      } while (pageToken);
      return ids;
    },
    async getTable(tableId) {
      const t = await call(() => api.tables.get({ projectId: target.projectId, datasetId: target.datasetId, tableId }));
      return {
        tableId,
        fields: (t.schema?.fields ?? []) as TableField[],
        numRows: Number(t.numRows ?? 0),
        lastModifiedTime: String(t.lastModifiedTime ?? ''),
      };
    },
    async readPage(tableId, page) {
      const data = await call(() =>
        api.tabledata.list({
          projectId: target.projectId,
          datasetId: target.datasetId,
          tableId,
          maxResults: page.maxResults,
          pageToken: page.pageToken,
          startIndex: page.pageToken ? undefined : String(page.startIndex ?? 0),
          // Integer microseconds instead of float seconds, which would lose them.
          'formatOptions.useInt64Timestamp': true,
        }),
      );
      return { rows: (data.rows ?? []) as TableRow[], pageToken: data.pageToken ?? undefined, totalRows: Number(data.totalRows ?? 0) };
    },
  };
}
