// `npm run generate`: the Prisma client and Pothos types, api/schema.graphql, the dashboard's
// typed operations. Build, typecheck and test depend on it.
import { generate } from "./lib/database.ts";
import { step } from "./lib/run.ts";

step("Generating the Prisma client, api/schema.graphql and the dashboard's GraphQL types");
generate();
step("Done");
