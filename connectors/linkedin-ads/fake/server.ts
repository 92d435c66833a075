// A local stand-in for LinkedIn's Marketing API ad analytics finder and OAuth token endpoint:
//   POST /oauth/v2/accessToken  grant_type=refresh_token (+ client_id, client_secret) → access_token
//   GET  /rest/adAnalytics?q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY&accounts=List(urn…)
//        &dateRange=(start:(year:Y,month:M,day:D))&start=&count=  → { elements, paging: { start, count, total } }
// Bearer tokens it issued are accepted (401 EXPIRED_ACCESS_TOKEN after expireTokens()), the
// LinkedIn-Version header is required, and tests queue failures (429 with Retry-After, 5xx).
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import data from './fixtures.json' with { type: 'json' };

export type AnalyticsRow = (typeof data.elements)[number];
export const credentials = data.credentials;

export interface LinkedInFake {
  url: string;
  tokenUrl: string;
  tokensIssued: number;
  requests: { path: string; query: URLSearchParams }[];
  /** Every token issued so far stops working (401), as after 60 days. */
  expireTokens(): void;
  fail(failure: { status: number; headers?: Record<string, string>; body?: unknown; times: number }): void;
  close(): Promise<void>;
}

const day = (d: { year: number; month: number; day: number }) => Date.UTC(d.year, d.month - 1, d.day);

export async function startFake(options: { rows?: AnalyticsRow[] } = {}): Promise<LinkedInFake> {
  const rows = structuredClone(options.rows ?? data.elements);
  const tokens = new Set<string>();
  const failures: { status: number; headers?: Record<string, string>; body?: unknown; times: number }[] = [];
  const requests: LinkedInFake['requests'] = [];
  let issued = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      requests.push({ path: url.pathname, query: url.searchParams });
      if (req.method === 'POST' && url.pathname === '/oauth/v2/accessToken') {
        const form = new URLSearchParams(raw);
        if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== credentials.refresh_token || form.get('client_id') !== credentials.client_id || form.get('client_secret') !== credentials.client_secret) {
          return send(400, { error: 'invalid_grant', error_description: 'The provided authorization grant or refresh token is invalid, expired or revoked' });
        }
        const token = `AQ${randomBytes(12).toString('hex')}`;
        tokens.add(token);
        fake.tokensIssued = ++issued;
        return send(200, { access_token: token, expires_in: 5_184_000, refresh_token: credentials.refresh_token, refresh_token_expires_in: 31_536_000 });
      }
      const failure = failures.find((f) => f.times > 0);
      if (failure) {
        failure.times--;
        return send(failure.status, failure.body ?? { status: failure.status, code: failure.status === 401 ? 'EXPIRED_ACCESS_TOKEN' : 'INTERNAL_SERVER_ERROR', message: 'injected failure' }, failure.headers);
      }
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!token || !tokens.has(token)) return send(401, { status: 401, serviceErrorCode: 65601, code: 'EXPIRED_ACCESS_TOKEN', message: 'The token used in the request has been revoked by the user' });
      if (!req.headers['linkedin-version']) return send(400, { status: 400, code: 'VERSION_MISSING', message: 'A version must be present. Please specify a version by adding the LinkedIn-Version header.' });
      if (url.pathname !== '/rest/adAnalytics' || url.searchParams.get('q') !== 'analytics') return send(404, { status: 404, message: 'No virtual resource found' });
      const range = /^\(start:\(year:(\d+),month:(\d+),day:(\d+)\)\)$/.exec(url.searchParams.get('dateRange') ?? '');
      if (!range) return send(400, { status: 400, code: 'PARAM_INVALID', message: 'Invalid param. Please see errorDetails for more information.' });
      const from = Date.UTC(+range[1], +range[2] - 1, +range[3]);
      const account = /urn:li:sponsoredAccount:(\d+)/.exec(url.searchParams.get('accounts') ?? '')?.[1];
      const start = Number(url.searchParams.get('start') ?? 0);
      const count = Number(url.searchParams.get('count') ?? 10);
      const matching = rows.filter((r) => account === credentials.ad_account_id && day(r.dateRange.start) >= from);
      send(200, { elements: matching.slice(start, start + count), paging: { start, count, total: matching.length, links: [] } });
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fake: LinkedInFake = {
    url,
    tokenUrl: `${url}/oauth/v2/accessToken`,
    tokensIssued: 0,
    requests,
    expireTokens: () => tokens.clear(),
    fail: (f) => void failures.push({ ...f }),
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
  return fake;
}
