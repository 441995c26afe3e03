// Rewrites the README's "who may call what" tables (root fields, then object types and fields) from
// tests/support/access-table.ts, the tables the authorization matrix test checks the API against.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { apiTokenScopes } from "@steward/core/permissions";
import {
  accessTableMarkdown,
  markdownTable,
  type Principal,
  roles,
  typeAccessTableRows,
} from "../tests/support/access-table.ts";

const readmePath = join(import.meta.dirname, "..", "README.md");
const principals: Principal[] = ["anonymous", ...roles, ...apiTokenScopes.map((scope) => `token:${scope}` as const)];
/** Replaces what lies between `<!-- name:start -->` and `<!-- name:end -->`. */
function replaceSection(text: string, name: string, table: string): string {
  const [before, rest] = text.split(`<!-- ${name}:start -->`);
  const after = rest?.split(`<!-- ${name}:end -->`)[1];
  if (before === undefined || after === undefined) throw new Error(`README.md has no ${name} markers`);
  return `${before}<!-- ${name}:start -->\n\n${table}\n\n<!-- ${name}:end -->${after}`;
}

let readme = readFileSync(readmePath, "utf8");
readme = replaceSection(readme, "access-table", accessTableMarkdown(principals));
readme = replaceSection(readme, "type-access-table", markdownTable(typeAccessTableRows(principals)));
writeFileSync(readmePath, readme);
execFileSync("npx", ["prettier", "--write", readmePath], { stdio: "inherit" });
