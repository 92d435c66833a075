// Google's OAuth 2.0 token endpoint, faked for both GA4 connectors' fakes: the JWT-bearer grant of a
// service account (RFC 7523; https://developers.google.com/identity/protocols/oauth2/service-account,
// "Making the access token request") with the assertion's RS256 signature, issuer, audience and
// lifetime checked, and the refresh_token grant of an OAuth client (RFC 6749 §6). Errors are Google's
// bodies: 400 invalid_grant, 401 invalid_client, 400 unsupported_grant_type. Issued tokens are
// remembered with their scope so the API fakes can refuse unknown, expired or revoked ones.
import { createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface OAuthClientFixture {
  client_id: string;
  client_secret: string;
  refresh_token: string;
}

export interface IssuedToken {
  scope: string;
  expiresAt: number;
  grant: 'jwt-bearer' | 'refresh_token';
}

export interface OAuthFake {
  /** The service-account key (Google's JSON key file format) whose public half the fake trusts. */
  serviceAccountKey: Record<string, string>;
  /** The same key as the JSON text a user puts in an env variable. */
  serviceAccountKeyJson: string;
  oauthClient: OAuthClientFixture;
  /** Every grant received, in order. */
  grants: { grant_type: string; iss?: string; scope?: string; client_id?: string }[];
  /** Answers POST /token. */
  handleToken(form: URLSearchParams, res: ServerResponse): void;
  /** The token's grant, or undefined when the Authorization header holds no live token. */
  tokenFor(authorization: string | undefined): IssuedToken | undefined;
  /** Every issued token stops working (a revoked credential). */
  revokeAll(): void;
  /** Lifetime of issued tokens in seconds (Google: 3599). */
  expiresIn: number;
}

// RSA key generation takes ~100 ms: one key pair per process is plenty for fakes.
let keyPair: { privateKey: string; publicKey: string } | undefined;
function keys(): { privateKey: string; publicKey: string } {
  keyPair ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return keyPair;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate' });
  res.end(JSON.stringify(body));
}

function decodePart(part: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export function createOAuthFake(options: { project?: string } = {}): OAuthFake {
  const project = options.project ?? 'touchpoint-test';
  const { privateKey, publicKey } = keys();
  const serviceAccountKey: Record<string, string> = {
    type: 'service_account',
    project_id: project,
    private_key_id: randomBytes(20).toString('hex'),
    private_key: privateKey,
    client_email: `touchpoint-reader@${project}.iam.gserviceaccount.com`,
    client_id: '104829573920184756392',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: GOOGLE_TOKEN_URI,
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/touchpoint-reader%40${project}.iam.gserviceaccount.com`,
    universe_domain: 'googleapis.com',
  };
  const oauthClient: OAuthClientFixture = {
    client_id: '918273645-abcdefghijklmnop.apps.googleusercontent.com',
    client_secret: 'GOCSPX-fake-client-secret',
    refresh_token: '1//0fake-refresh-token-for-tests',
  };
  const issued = new Map<string, IssuedToken>();
  const fake: OAuthFake = {
    serviceAccountKey,
    serviceAccountKeyJson: JSON.stringify(serviceAccountKey, null, 2),
    oauthClient,
    grants: [],
    expiresIn: 3599,
    handleToken(form, res) {
      const grantType = form.get('grant_type') ?? '';
      const issue = (scope: string, grant: IssuedToken['grant']) => {
        const token = `ya29.${randomBytes(24).toString('base64url')}`;
        issued.set(token, { scope, expiresAt: Date.now() + fake.expiresIn * 1000, grant });
        send(res, 200, { access_token: token, expires_in: fake.expiresIn, token_type: 'Bearer', ...(grant === 'refresh_token' ? { scope } : {}) });
      };
      if (grantType === JWT_BEARER) {
        const [h, c, sig] = (form.get('assertion') ?? '').split('.');
        const header = h ? decodePart(h) : undefined;
        const claims = c ? decodePart(c) : undefined;
        fake.grants.push({ grant_type: grantType, iss: claims?.iss as string | undefined, scope: claims?.scope as string | undefined });
        if (!header || !claims || !sig || header.alg !== 'RS256') return send(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT: malformed assertion.' });
        if (claims.iss !== serviceAccountKey.client_email) return send(res, 400, { error: 'invalid_grant', error_description: 'Invalid grant: account not found' });
        if (!createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey, sig, 'base64url')) {
          return send(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
        }
        const now = Date.now() / 1000;
        const iat = Number(claims.iat);
        const exp = Number(claims.exp);
        if (claims.aud !== GOOGLE_TOKEN_URI || !(exp > now) || exp - iat > 3600 || iat > now + 60) {
          return send(res, 400, {
            error: 'invalid_grant',
            error_description: 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
          });
        }
        if (typeof claims.scope !== 'string' || claims.scope === '') return send(res, 400, { error: 'invalid_scope', error_description: 'Invalid OAuth scope or ID token audience provided.' });
        return issue(claims.scope, 'jwt-bearer');
      }
      if (grantType === 'refresh_token') {
        fake.grants.push({ grant_type: grantType, client_id: form.get('client_id') ?? undefined });
        if (form.get('client_id') !== oauthClient.client_id) return send(res, 401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' });
        if (form.get('client_secret') !== oauthClient.client_secret) return send(res, 401, { error: 'invalid_client', error_description: 'Unauthorized' });
        if (form.get('refresh_token') !== oauthClient.refresh_token) return send(res, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
        return issue('https://www.googleapis.com/auth/bigquery.readonly https://www.googleapis.com/auth/analytics.readonly', 'refresh_token');
      }
      fake.grants.push({ grant_type: grantType });
      send(res, 400, { error: 'unsupported_grant_type', error_description: `Invalid grant_type: ${grantType}` });
    },
    tokenFor(authorization) {
      const m = /^Bearer (\S+)$/i.exec(authorization ?? '');
      const t = m ? issued.get(m[1]) : undefined;
      return t && t.expiresAt > Date.now() ? t : undefined;
    },
    revokeAll() {
      issued.clear();
    },
  };
  return fake;
}
