// A client-only SPA: the API serves web/build with an index.html fallback on the same origin.
export const ssr = false;
export const prerender = false;
