// Security headers for every response, and a Content-Security-Policy for the dashboard that allows
// only its own files plus the inline bootstrap scripts SvelteKit writes into its HTML (by hash).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import type { Env } from "@steward/core/env";

/** Sent on every response (API and dashboard). */
export const baseSecurityHeaders: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
};

/** HTTPS only: browsers keep to HTTPS for a year once they have seen this. */
export const strictTransportSecurity = "max-age=31536000; includeSubDomains";

/** Hashes of the inline <script> blocks of every HTML file in the built dashboard. */
export function inlineScriptHashes(distDir: string): string[] {
  const hashes = new Set<string>();
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith(".html")) {
        for (const match of readFileSync(path, "utf8").matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)) {
          hashes.add(
            `'sha256-${createHash("sha256")
              .update(match[1] ?? "")
              .digest("base64")}'`,
          );
        }
      }
    }
  };
  visit(distDir);
  return [...hashes].sort();
}

export function dashboardContentSecurityPolicy(scriptHashes: readonly string[]): string {
  return [
    "default-src 'self'",
    `script-src 'self' ${scriptHashes.join(" ")}`.trim(),
    // Svelte sets style attributes (transitions, display: contents); no inline <style> from users.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    // 'self' covers the same-origin graphql-ws socket (ws:/wss:) in current browsers.
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function applySecurityHeaders(res: ServerResponse, env: Pick<Env, "COOKIE_SECURE">): void {
  for (const [name, value] of Object.entries(baseSecurityHeaders)) res.setHeader(name, value);
  // Secure cookies mean the deployment is served over HTTPS; tell browsers to stay on it.
  if (env.COOKIE_SECURE) res.setHeader("strict-transport-security", strictTransportSecurity);
}

/** The dashboard's headers, computed once from its build at start-up. */
export function dashboardHeaders(distDir: string): Record<string, string> {
  return { "content-security-policy": dashboardContentSecurityPolicy(inlineScriptHashes(distDir)) };
}
