// SvelteKit 3 takes its configuration here (svelte.config.js is no longer supported).
// The dashboard is a static SPA: the API serves web/build on the same origin as /graphql.
import adapter from "@sveltejs/adapter-static";
import { sveltekit } from "@sveltejs/kit/vite";
import { defineConfig } from "vite";

const apiUrl = process.env.STEWARD_API_URL ?? "http://127.0.0.1:4000";

export default defineConfig({
  plugins: [
    sveltekit({
      adapter: adapter({ pages: "build", assets: "build", fallback: "index.html", strict: true }),
      // Kit 3 prefers subpath imports (#lib) declared in package.json; `$lib` is kept through
      // the alias option until web/package.json carries an `imports` field.
      alias: { $lib: "src/lib" },
    }),
  ],
  server: {
    // `vite dev` only: forward GraphQL (HTTP and graphql-ws) to a running API.
    proxy: {
      "/graphql": { target: apiUrl, changeOrigin: false, ws: true },
    },
  },
});
