// Writes api/schema.graphql, the committed contract for integrations and the dashboard's types.
import { writeFileSync } from "node:fs";
import { printSchema } from "graphql";
import { schema } from "./schema/index.ts";

const target = new URL("../schema.graphql", import.meta.url);
writeFileSync(target, `${printSchema(schema)}\n`);
