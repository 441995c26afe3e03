// Prints the nginx configuration of the web image: the template with the dashboard's CSP, whose
// script hashes come from this build's HTML (the same policy the API sends when it serves it).
//   node --import tsx scripts/dashboard-nginx-conf.ts <web/build> <template>
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { dashboardContentSecurityPolicy, inlineScriptHashes } from "../api/src/security/http-headers.ts";

export function renderNginxConf(distDir: string, template: string): string {
  const policy = dashboardContentSecurityPolicy(inlineScriptHashes(distDir));
  if (!template.includes("__CSP__")) throw new Error("The nginx template has no __CSP__ placeholder");
  return template.replaceAll("__CSP__", policy);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [distDir, templatePath] = process.argv.slice(2);
  if (!distDir || !templatePath) throw new Error("usage: dashboard-nginx-conf.ts <web/build> <template>");
  process.stdout.write(renderNginxConf(distDir, readFileSync(templatePath, "utf8")));
}
