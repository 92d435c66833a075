// The conformance harness (`touchpoint connector test ga4-bigquery`): the fake BigQuery holding the
// GA4 export fixtures, a service-account key against the fake's token endpoint.
import type { ConformanceHarnessFactory } from '../../../core/sdk/index.ts';
import { errors, startFake } from './server.ts';

const harness: ConformanceHarnessFactory = async () => {
  const fake = await startFake();
  const key = fake.oauth.serviceAccountKeyJson;
  return {
    config: { project_id: fake.project, property_id: '123456789', bigquery_url: fake.url, credentials: { service_account_key: key, token_url: fake.tokenUrl } },
    secrets: [key, (JSON.parse(key) as { private_key: string }).private_key],
    fail: ({ status, headers, body, times }) => fake.failNext(...Array.from({ length: times }, () => ({ status, headers, body: body ?? (status === 401 ? errors.unauthenticated() : undefined) }))),
    close: () => fake.close(),
  };
};
export default harness;
