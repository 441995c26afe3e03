// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
  namespace App {
    // The dashboard is a client-only SPA: no server locals, platform or page data shapes yet.
  }
}

export {};
