// Google credentials for the two GA4 connectors (this folder and ../ga4): a service-account key (JSON
// text, or a file) exchanged for an access token with the JWT-bearer grant (RFC 7523; Google's
// "Using OAuth 2.0 for Server to Server Applications"), or an OAuth client's refresh token (RFC 6749
// §6). We POST both grants ourselves, through ctx.http, to a token URL the config may override
// (google-auth-library hard-codes https://oauth2.googleapis.com/token for the JWT grant and retries
// token calls on its own). googleapis then gets an OAuth2Client whose `refreshHandler` calls back
// here whenever it has no token or the token is about to expire.
import { createSign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AuthError, ConfigError } from '../../core/sdk/index.ts';
import type { HttpClient, ResponseClassifier } from '../../core/sdk/index.ts';

export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
// Google accepts assertions valid for at most one hour (Server to Server guide, "exp").
const ASSERTION_LIFETIME_S = 3600;

/** The `credentials` block shared by both connectors' config schemas. */
export interface GoogleCredentials {
  /** The service-account JSON key itself (usually `${env:GOOGLE_APPLICATION_CREDENTIALS_JSON}`). */
  service_account_key?: string;
  /** Path to the JSON key file, relative to the pipeline file. */
  service_account_key_file?: string;
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
  token_url?: string;
}

export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
  project_id?: string;
}

export interface AccessToken {
  access_token: string;
  /** Epoch ms, as google-auth-library's Credentials want it. */
  expiry_date: number;
}

export interface TokenContext {
  http: HttpClient;
  resolvePath(path: string): string;
}

/** What the hint of a refused credential should say: how to get a working one for this connector. */
export interface AuthAdvice {
  scopes: readonly string[];
  /** e.g. "the service account needs BigQuery Data Viewer on the dataset". */
  access: string;
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/** Parses and checks a service-account key; the message never echoes the key. */
export function parseServiceAccountKey(text: string, where: string): ServiceAccountKey {
  let key: unknown;
  try {
    key = JSON.parse(text);
  } catch {
    throw new ConfigError(`${where} is not JSON`, {
      hint: 'give the whole service-account key file content (it starts with {"type": "service_account"), e.g. service_account_key: ${env:GOOGLE_APPLICATION_CREDENTIALS_JSON}',
    });
  }
  const k = key as Partial<ServiceAccountKey> & { type?: unknown };
  const missing = (['client_email', 'private_key'] as const).filter((f) => typeof k?.[f] !== 'string' || k[f] === '');
  if (!k || typeof k !== 'object' || missing.length > 0) {
    throw new ConfigError(`${where} is not a service-account key: ${missing.join(' and ')} missing`, {
      hint: k?.type === 'authorized_user'
        ? 'this is a user credential: give its client_id, client_secret and refresh_token instead'
        : 'create a JSON key under IAM & Admin → Service accounts → Keys and give its content',
    });
  }
  return k as ServiceAccountKey;
}

/** A signed JWT-bearer assertion (RS256) for `scopes`, valid for an hour from `nowS`. */
export function signAssertion(key: ServiceAccountKey, scopes: readonly string[], nowS = Math.floor(Date.now() / 1000)): string {
  const header = { alg: 'RS256', typ: 'JWT', ...(key.private_key_id ? { kid: key.private_key_id } : {}) };
  // `aud` is Google's token URI from the key even when the request goes to an overridden token URL
  // (a proxy forwards the assertion to Google, which checks it).
  const claims = { iss: key.client_email, scope: scopes.join(' '), aud: key.token_uri || GOOGLE_TOKEN_URL, iat: nowS, exp: nowS + ASSERTION_LIFETIME_S };
  const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  let signature: string;
  try {
    signature = createSign('RSA-SHA256').update(unsigned).sign(key.private_key, 'base64url');
  } catch (error) {
    throw new ConfigError('the private_key of the service-account key cannot be read', {
      hint: 'give the key file content unchanged (the PEM with its \\n line breaks)',
      cause: error,
    });
  }
  return `${unsigned}.${signature}`;
}

// The token endpoint's OAuth errors (RFC 6749 §5.2): a refused grant or client is a credential problem.
const tokenClassifier: ResponseClassifier = (response, body) => {
  const b = body as { error?: unknown; error_description?: unknown } | null;
  if (!b || typeof b.error !== 'string') return undefined;
  const message = typeof b.error_description === 'string' ? `${b.error}: ${b.error_description}` : b.error;
  if (['invalid_grant', 'invalid_client', 'unauthorized_client', 'invalid_scope', 'access_denied'].includes(b.error)) return { kind: 'auth', message };
  return response.status >= 500 || response.status === 429 ? undefined : { kind: 'terminal', message };
};

/**
 * A function that fetches a fresh access token for `credentials` (it does not cache: the OAuth2Client
 * holding the token does). Config problems (no usable credential, unreadable key) throw at once.
 */
export async function createTokenSource(credentials: GoogleCredentials | undefined, ctx: TokenContext, advice: AuthAdvice): Promise<() => Promise<AccessToken>> {
  const c = credentials ?? {};
  const tokenUrl = c.token_url || GOOGLE_TOKEN_URL;
  const http = ctx.http.extend({ classify: tokenClassifier });
  let body: () => URLSearchParams;
  let hint: string;
  if (c.service_account_key || c.service_account_key_file) {
    let key: ServiceAccountKey;
    if (c.service_account_key) key = parseServiceAccountKey(c.service_account_key, 'credentials.service_account_key');
    else {
      const path = ctx.resolvePath(c.service_account_key_file!);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        throw new ConfigError(`credentials.service_account_key_file: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, {
          hint: 'the path is relative to the pipeline file',
          cause: error,
        });
      }
      key = parseServiceAccountKey(text, `credentials.service_account_key_file (${path})`);
    }
    signAssertion(key, advice.scopes); // fail now, as a config error, if the key cannot sign
    body = () => new URLSearchParams({ grant_type: JWT_BEARER, assertion: signAssertion(key, advice.scopes) });
    hint = `the service-account key of ${key.client_email} was refused: check that the key still exists (IAM & Admin → Service accounts → Keys) and the token URL; then ${advice.access}`;
  } else if (c.refresh_token) {
    if (!c.client_id || !c.client_secret) {
      throw new ConfigError('credentials: refresh_token needs client_id and client_secret', { hint: 'give the OAuth client that issued the refresh token' });
    }
    const form = { grant_type: 'refresh_token', client_id: c.client_id, client_secret: c.client_secret, refresh_token: c.refresh_token };
    body = () => new URLSearchParams(form);
    hint = `the refresh token was refused: it may be revoked or expired (an OAuth app in Testing mode issues tokens that expire after 7 days); create a new one with the scope ${advice.scopes.join(' ')} for the same client_id`;
  } else {
    throw new ConfigError('credentials: give service_account_key, service_account_key_file, or client_id + client_secret + refresh_token', {
      hint: 'e.g. credentials: { service_account_key: ${env:GOOGLE_APPLICATION_CREDENTIALS_JSON} }',
    });
  }

  return async () => {
    let response: { body: unknown };
    try {
      response = await http.post(tokenUrl, body());
    } catch (error) {
      if (error instanceof AuthError) throw new AuthError(`token request refused: ${error.message}`, { where: error.where, hint, cause: error });
      throw error;
    }
    const t = response.body as { access_token?: unknown; expires_in?: unknown } | null;
    if (!t || typeof t.access_token !== 'string' || t.access_token === '') {
      throw new AuthError('the token endpoint answered without an access_token', { hint: `check credentials.token_url (${tokenUrl})` });
    }
    const seconds = typeof t.expires_in === 'number' ? t.expires_in : Number(t.expires_in ?? 3600);
    return { access_token: t.access_token, expiry_date: Date.now() + (Number.isFinite(seconds) ? seconds : 3600) * 1000 };
  };
}

/** The part of google-auth-library's OAuth2Client we use (the class comes from the googleapis module). */
export interface RefreshableClient {
  refreshHandler?: () => Promise<{ access_token: string; expiry_date: number }>;
}

/** An OAuth2Client (from the caller's googleapis module) that gets its tokens from `fetchToken`. */
export function withTokenSource<T extends RefreshableClient>(client: T, fetchToken: () => Promise<AccessToken>): T {
  client.refreshHandler = fetchToken;
  return client;
}
