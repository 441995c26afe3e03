// Who is calling: a session cookie (dashboard) or a bearer API token (integrations). The same
// function serves HTTP requests and websocket connections.
import { type Actor, ANONYMOUS } from "@steward/core/actor";
import { SESSION_COOKIE } from "@steward/core/auth";
import { parse as parseCookies } from "cookie";
import type { CredentialLookup } from "./sessionCache.ts";

export interface Credentials {
  cookieHeader?: string | null;
  authorizationHeader?: string | null;
}

/** The credentials were present but not valid: the caller gets a 401, not anonymous access. */
export class InvalidCredentialsPresented extends Error {}

export async function authenticate(lookup: CredentialLookup, credentials: Credentials): Promise<Actor> {
  const bearer = credentials.authorizationHeader?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (credentials.authorizationHeader && !bearer)
    throw new InvalidCredentialsPresented("Malformed Authorization header");
  if (bearer) {
    const actor = bearer.startsWith("sst_")
      ? await lookup.operatorForSession(bearer)
      : await lookup.actorForApiToken(bearer);
    if (!actor) throw new InvalidCredentialsPresented("Unknown, expired or revoked token");
    return actor;
  }
  const sessionToken = credentials.cookieHeader ? parseCookies(credentials.cookieHeader)[SESSION_COOKIE] : undefined;
  if (sessionToken) {
    // An expired or forged cookie is treated as signed out; the dashboard then shows the login page.
    return (await lookup.operatorForSession(sessionToken)) ?? ANONYMOUS;
  }
  return ANONYMOUS;
}
