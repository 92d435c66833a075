// The conformance harness (`touchpoint connector test hubspot`): the fake with a private app token,
// failures injected through the fake's own failNext.
import type { ConformanceHarnessFactory } from '../../../core/sdk/index.ts';
import { startFake } from './server.ts';

const harness: ConformanceHarnessFactory = async () => {
  const fake = await startFake();
  const token = fake.data.credentials.accessTokens[0];
  return {
    config: { access_token: token, base_url: fake.url },
    secrets: [token],
    // HubSpot always sends a JSON error body (its client library cannot read an empty one).
    fail: ({ status, headers, body, times }) =>
      fake.failNext({ status, headers, times, body: body ?? { status: 'error', message: 'injected failure', correlationId: 'conformance', category: status === 401 ? 'INVALID_AUTHENTICATION' : 'INTERNAL_ERROR' } }),
    close: () => fake.close(),
  };
};
export default harness;
