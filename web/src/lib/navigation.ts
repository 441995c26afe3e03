// Where to send the operator before and after signing in.

/** `/login?next=<where they were>`; the login page sends them back there afterwards. */
export function loginHref(from: { pathname: string; search: string }): string {
  const next = from.pathname + from.search;
  return next === "/" || next.startsWith("/login") ? "/login" : `/login?next=${encodeURIComponent(next)}`;
}

/** Only same-origin paths are accepted, so the login page cannot be used as an open redirect. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  return next;
}
