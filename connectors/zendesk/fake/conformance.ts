// The conformance harness (`touchpoint connector test zendesk`): the fake with pages of two tickets,
// so the kit walks links.next.
import type { ConformanceHarnessFactory } from '../../../core/sdk/index.ts';
import { credentials, startFake } from './server.ts';

const harness: ConformanceHarnessFactory = async () => {
  const fake = await startFake({ maxPage: 2 });
  return {
    config: { base_url: fake.url, email: credentials.email, api_token: credentials.api_token },
    secrets: [credentials.api_token],
    fail: (f) => fake.fail(f),
    close: () => fake.close(),
  };
};
export default harness;
