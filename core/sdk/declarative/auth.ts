// Authentication for declarative connectors: a static header or query parameter (bearer, API key,
// basic) or an OAuth 2.0 refresh-token grant (RFC 6749 §6) whose access token is fetched on the first
// request and fetched again once when the API answers 401 (it expired or was revoked mid-run).
import { AuthError, isTouchpointError } from '../../errors.ts';
import type { HttpClient, HttpRequest, JsonObject } from '../types.ts';

export type AuthSpec =
  | { type: 'bearer'; token: string }
  | { type: 'api_key'; in?: 'header' | 'query'; name: string; value: string }
  | { type: 'basic'; username: string; password: string }
  | { type: 'oauth_refresh'; token_url: string; refresh_token: string; client_id?: string; client_secret?: string; scope?: string }
  | { type: 'none' };

export interface Auth {
  /** The request with credentials added. */
  apply(req: HttpRequest): Promise<HttpRequest>;
  /** Forget the access token so the next apply fetches a new one; false when there is nothing to refresh. */
  invalidate(): boolean;
}

/** `spec` already rendered with the source config. */
export function createAuth(spec: AuthSpec | undefined, http: HttpClient): Auth {
  if (!spec || spec.type === 'none') return { apply: async (r) => r, invalidate: () => false };
  if (spec.type !== 'oauth_refresh') {
    const header = (name: string, value: string) => async (r: HttpRequest) => ({ ...r, headers: { ...r.headers, [name]: value } });
    const apply =
      spec.type === 'bearer'
        ? header('authorization', `Bearer ${spec.token}`)
        : spec.type === 'basic'
          ? header('authorization', `Basic ${Buffer.from(`${spec.username}:${spec.password}`).toString('base64')}`)
          : spec.in === 'query'
            ? async (r: HttpRequest) => ({ ...r, query: { ...r.query, [spec.name]: spec.value } })
            : header(spec.name, spec.value);
    return { apply, invalidate: () => false };
  }
  let token: Promise<string> | undefined;
  const fetchToken = async (): Promise<string> => {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: spec.refresh_token });
    if (spec.client_id) form.set('client_id', spec.client_id);
    if (spec.client_secret) form.set('client_secret', spec.client_secret);
    if (spec.scope) form.set('scope', spec.scope);
    let body: JsonObject | null;
    try {
      body = (await http.request<JsonObject | null>({ method: 'POST', url: spec.token_url, body: form })).body;
    } catch (error) {
      // 400 invalid_grant is how RFC 6749 §5.2 says "this refresh token is no good": an auth problem.
      if (isTouchpointError(error) && (error.name === 'AuthError' || (error as { status?: number }).status === 400)) {
        throw new AuthError(`the OAuth token endpoint refused the refresh token: ${error.message}`, {
          where: error.where,
          hint: 'the refresh token was revoked or has expired: authorise the app again and update refresh_token in the environment',
          cause: error,
        });
      }
      throw error;
    }
    const access = body?.access_token;
    if (typeof access !== 'string' || access === '') {
      throw new AuthError('the OAuth token endpoint answered without an access_token', { hint: 'check token_url: it must be the OAuth 2.0 token endpoint' });
    }
    return access;
  };
  return {
    async apply(r) {
      token ??= fetchToken();
      const t = await token.catch((error: unknown) => {
        token = undefined;
        throw error;
      });
      return { ...r, headers: { ...r.headers, authorization: `Bearer ${t}` } };
    },
    invalidate() {
      token = undefined;
      return true;
    },
  };
}
