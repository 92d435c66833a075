// The conformance harness (`touchpoint connector test linkedin-ads`): the fake's app credentials,
// pages of 100 from a week of two campaigns' analytics.
import type { ConformanceHarnessFactory } from '../../../core/sdk/index.ts';
import { credentials, startFake } from './server.ts';

const harness: ConformanceHarnessFactory = async () => {
  const fake = await startFake();
  return {
    config: { ...credentials, start_date: '2025-01-01', base_url: fake.url, token_url: fake.tokenUrl },
    secrets: [credentials.client_secret, credentials.refresh_token],
    fail: (f) => fake.fail(f),
    close: () => fake.close(),
  };
};
export default harness;
