// The HubSpot fake's public face, for this connector's tests and for multi-source pipeline tests:
// `const fake = await startFake(); fake.url` is a base_url/token_url root that behaves like HubSpot.
export { fixtures, rateLimitBody, startFake } from './server.ts';
export type { FailRule, FakeObject, FakeOptions, FakeRecord, FakeRequest, FakeSubmission, Fixtures, HubSpotFake } from './server.ts';
