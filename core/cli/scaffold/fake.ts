// The fake vendor API every scaffolded connector starts with (both the TypeScript and the YAML
// kind): GET /v1/contacts with Bearer auth, `updated_since`, cursor paging (`cursor`, `next_cursor`)
// and queued failures, plus the conformance harness that drives it. Templates as strings.

export function fakeServer(name: string): string {
  return `// A local fake of the ${name} API for tests and the conformance kit: GET /v1/contacts with
// Bearer auth (401 otherwise), \`updated_since\` (ISO), cursor paging (\`limit\`, \`cursor\` →
// \`next_cursor\`), oldest update first, and failures a test queues (429 + Retry-After, 5xx).
// Replace the fixtures and routes with what the real API sends (its docs' example responses).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const TOKEN = 'fake-${name}-token-0c41';

export const fixtures = [
  { id: '1', email: 'ada@example.com', name: 'Ada', created_at: '2025-01-02T09:00:00Z', updated_at: '2025-01-02T09:00:00Z' },
  { id: '2', email: 'grace@example.com', name: 'Grace', created_at: '2025-01-03T10:00:00Z', updated_at: '2025-01-04T08:30:00Z' },
  { id: '3', email: 'alan@example.com', name: 'Alan', created_at: '2025-01-05T11:00:00Z', updated_at: '2025-01-05T11:00:00Z' },
  { id: '4', email: 'edsger@example.com', name: 'Edsger', created_at: '2025-01-06T12:00:00Z', updated_at: '2025-01-08T16:00:00Z' },
  { id: '5', email: 'barbara@example.com', name: 'Barbara', created_at: '2025-01-07T13:00:00Z', updated_at: '2025-01-09T07:15:00Z' },
];

export interface Failure {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  times: number;
}

export interface Fake {
  url: string;
  requests: URL[];
  contacts: typeof fixtures;
  fail(failure: Failure): void;
  close(): Promise<void>;
}

export async function startFake(): Promise<Fake> {
  const failures: Failure[] = [];
  const requests: URL[] = [];
  const contacts = structuredClone(fixtures);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(url);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const failure = failures.find((f) => f.times > 0);
    if (failure) {
      failure.times--;
      return send(failure.status, failure.body ?? { error: { message: 'injected failure' } }, failure.headers);
    }
    if (req.headers.authorization !== \`Bearer \${TOKEN}\`) return send(401, { error: { message: 'invalid token' } });
    if (url.pathname !== '/v1/contacts') return send(404, { error: { message: 'not found' } });
    const since = url.searchParams.get('updated_since');
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 2), 100);
    const offset = Number(url.searchParams.get('cursor') ?? 0);
    const matching = contacts
      .filter((c) => !since || Date.parse(c.updated_at) >= Date.parse(since))
      .sort((a, b) => Date.parse(a.updated_at) - Date.parse(b.updated_at));
    const page = matching.slice(offset, offset + limit);
    send(200, { data: page, next_cursor: offset + limit < matching.length ? String(offset + limit) : null });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: \`http://127.0.0.1:\${(server.address() as AddressInfo).port}\`,
    requests,
    contacts,
    fail: (f) => void failures.push({ ...f }),
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
`;
}

export function harness(name: string): string {
  return `// The conformance harness (\`touchpoint connector test ${name}\`): starts the fake and says how to
// point the connector at it and how to make it fail. The kit starts one per scenario.
import type { ConformanceHarnessFactory } from 'touchpoint/sdk';
import { TOKEN, startFake } from './server.ts';

const harness: ConformanceHarnessFactory = async () => {
  const fake = await startFake();
  return {
    config: { base_url: fake.url, api_token: TOKEN },
    secrets: [TOKEN],
    fail: (failure) => fake.fail(failure),
    close: () => fake.close(),
  };
};
export default harness;
`;
}
