// Rewrites the README's "who may call what" table from tests/support/access-table.ts, the table
// the authorization matrix test checks the API against.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { apiTokenScopes } from "@steward/core/permissions";
import { accessTableMarkdown, type Principal, roles } from "../tests/support/access-table.ts";

const readmePath = join(import.meta.dirname, "..", "README.md");
const principals: Principal[] = ["anonymous", ...roles, ...apiTokenScopes.map((scope) => `token:${scope}` as const)];
const readme = readFileSync(readmePath, "utf8");
const [before, rest] = readme.split("<!-- access-table:start -->");
const after = rest?.split("<!-- access-table:end -->")[1];
if (before === undefined || after === undefined) throw new Error("README.md has no access-table markers");
writeFileSync(
  readmePath,
  `${before}<!-- access-table:start -->\n\n${accessTableMarkdown(principals)}\n\n<!-- access-table:end -->${after}`,
);
execFileSync("npx", ["prettier", "--write", readmePath], { stdio: "inherit" });
