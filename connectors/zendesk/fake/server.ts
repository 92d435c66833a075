// A local stand-in for Zendesk's Export Search Results API (GET /api/v2/search/export): Basic auth
// `<email>/token:<api_token>` (401 with Zendesk's body otherwise), `query=type:ticket updated>=<iso>`,
// cursor pagination with `page[size]` (≤ 1000), `page[after]`, meta.has_more/after_cursor and
// links.next, and failures a test queues (429 with Retry-After, 5xx). Tickets come out oldest first.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import data from './fixtures.json' with { type: 'json' };

export type Ticket = (typeof data.tickets)[number];

export interface ZendeskFake {
  url: string;
  tickets: Ticket[];
  requests: { path: string; query: URLSearchParams }[];
  fail(failure: { status: number; headers?: Record<string, string>; body?: unknown; times: number }): void;
  close(): Promise<void>;
}

export const credentials = data.agent;

/** `maxPage`: the largest page served whatever page[size] asks (to exercise paging with few tickets). */
export async function startFake(options: { tickets?: Ticket[]; maxPage?: number } = {}): Promise<ZendeskFake> {
  const failures: { status: number; headers?: Record<string, string>; body?: unknown; times: number }[] = [];
  const basic = `Basic ${Buffer.from(`${credentials.email}/token:${credentials.api_token}`).toString('base64')}`;
  const fake = { tickets: structuredClone(options.tickets ?? data.tickets), requests: [] as ZendeskFake['requests'] };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    fake.requests.push({ path: url.pathname, query: url.searchParams });
    const failure = failures.find((f) => f.times > 0);
    if (failure) {
      failure.times--;
      return send(failure.status, failure.body ?? { error: failure.status === 401 ? "Couldn't authenticate you" : 'injected failure' }, failure.headers);
    }
    if (req.headers.authorization !== basic) return send(401, { error: "Couldn't authenticate you" });
    if (url.pathname !== '/api/v2/search/export') return send(404, { error: 'InvalidEndpoint', description: 'Not found' });
    if (url.searchParams.get('filter[type]') !== 'ticket') return send(400, { error: 'InvalidSearchParameter', description: 'filter[type] is required' });
    const since = /updated>=(\S+)/.exec(url.searchParams.get('query') ?? '')?.[1];
    const size = Math.min(Number(url.searchParams.get('page[size]') ?? 100), 1000, options.maxPage ?? 1000);
    const after = Number(url.searchParams.get('page[after]') ?? 0);
    const matching = fake.tickets
      .filter((t) => !since || Date.parse(t.updated_at) >= Date.parse(since))
      .sort((a, b) => Date.parse(a.updated_at) - Date.parse(b.updated_at) || a.id - b.id);
    const page = matching.slice(after, after + size);
    const more = after + size < matching.length;
    const next = new URL(url);
    next.searchParams.set('page[after]', String(after + size));
    send(200, {
      results: page.map((t) => ({ ...t, result_type: 'ticket', url: `${url.origin}/api/v2/tickets/${t.id}.json` })),
      facets: null,
      meta: { has_more: more, after_cursor: more ? String(after + size) : null, before_cursor: null },
      links: { next: more ? `http://${req.headers.host}${next.pathname}${next.search}` : null, prev: null },
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    ...fake,
    url: `http://127.0.0.1:${port}`,
    fail: (f) => void failures.push({ ...f }),
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
