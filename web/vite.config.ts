// SvelteKit's configuration lives in its Vite plugin (supported since Kit 2.62 and the only place
// Kit 3 reads it), so there is no svelte.config.js.
// The dashboard is a static SPA: the API serves web/build, with index.html as the fallback for
// every route, on the same origin as /graphql.
import adapter from "@sveltejs/adapter-static";
import { sveltekit } from "@sveltejs/kit/vite";
import { defineConfig } from "vite";

const apiUrl = process.env.STEWARD_API_URL ?? "http://127.0.0.1:4000";

export default defineConfig({
  plugins: [
    sveltekit({
      adapter: adapter({ pages: "build", assets: "build", fallback: "index.html", strict: true }),
    }),
  ],
  server: {
    // `vite dev` only: forward GraphQL (HTTP and graphql-ws) to a running API.
    proxy: {
      // The API accepts websockets only from its PUBLIC_URL's origin: present the API's own.
      "/graphql": {
        target: apiUrl,
        ws: true,
        configure: (proxy) => proxy.on("proxyReqWs", (request) => request.setHeader("origin", new URL(apiUrl).origin)),
      },
    },
  },
});
