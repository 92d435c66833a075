// The conformance harness (`touchpoint connector test ga4`): the fake Data API with a service-account
// key whose token requests go to the fake's token endpoint; failures hit runReport only.
import type { ConformanceHarnessFactory } from '../../../core/sdk/index.ts';
import { errors, startFake } from './server.ts';

const harness: ConformanceHarnessFactory = async () => {
  const fake = await startFake();
  const key = fake.oauth.serviceAccountKeyJson;
  return {
    config: { property_id: fake.property, analytics_data_url: fake.url, page_size: 40, credentials: { service_account_key: key, token_url: fake.tokenUrl } },
    secrets: [key, (JSON.parse(key) as { private_key: string }).private_key],
    fail: ({ status, headers, body, times }) => fake.failNext(...Array.from({ length: times }, () => ({ status, headers, body: body ?? (status === 401 ? errors.unauthenticated() : undefined) }))),
    close: () => fake.close(),
  };
};
export default harness;
