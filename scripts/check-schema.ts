// Fails when the committed api/schema.graphql differs from what the code builds (CI runs this).
import { readFileSync } from "node:fs";
import { printSchema } from "graphql";
import { schema } from "../api/src/schema/index.ts";

const committed = readFileSync(new URL("../api/schema.graphql", import.meta.url), "utf8");
if (committed !== `${printSchema(schema)}\n`) {
  console.error("api/schema.graphql is stale: run `npm run generate` and commit the result.");
  process.exit(1);
}
console.log("api/schema.graphql is up to date.");
