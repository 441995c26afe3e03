// Limits on what one GraphQL document may ask for, checked before anything runs (over HTTP and
// graphql-ws alike): depth, aliases, directives, tokens and cost (graphql-armor), and, in
// production, no introspection and no "Did you mean …?" field suggestions that map the schema.
// Tuned so every operation of the dashboard passes (tests/integration/graphql-limits.test.ts).
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import type { Env } from "@steward/core/env";
import type { ASTVisitor, GraphQLError, ValidationContext } from "graphql";
import { createGraphQLError, type Plugin } from "graphql-yoga";
import { variableListCost } from "./variable-cost.ts";

export const graphqlLimits = {
  /** The dashboard's deepest operation (a connection of reviews with their business and region) is 5. */
  maxDepth: 8,
  maxAliases: 10,
  maxDirectives: 20,
  maxTokens: 2_000,
  maxCost: 5_000,
} as const;

type ArmorConfig = NonNullable<Parameters<typeof EnvelopArmorPlugin>[0]>;

export function armorConfig(env: Pick<Env, "NODE_ENV">): ArmorConfig {
  const production = env.NODE_ENV === "production";
  // Reported, not thrown: a reported error is an ordinary validation error (HTTP 400, code
  // GRAPHQL_VALIDATION_FAILED), and nothing of the document runs.
  const report = {
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
  };
  return {
    maxDepth: { n: graphqlLimits.maxDepth, flattenFragments: true, ...report },
    maxAliases: { n: graphqlLimits.maxAliases, ...report },
    maxDirectives: { n: graphqlLimits.maxDirectives, ...report },
    maxTokens: { n: graphqlLimits.maxTokens, exposeLimits: true },
    costLimit: { maxCost: graphqlLimits.maxCost, ...report },
    // Suggestions help while developing; in production they would reveal field names.
    blockFieldSuggestion: { enabled: production },
  };
}

/** Introspection answers "what can I ask?"; in production only the dashboard's known operations need answering. */
function disableIntrospection(): Plugin {
  // Errors made through Yoga's GraphQLError class: under Vitest the app's own `graphql` import
  // is a second copy whose errors Yoga would not recognise (see builder.ts).
  const rule = (context: ValidationContext): ASTVisitor => ({
    Field(node) {
      if (node.name.value === "__schema" || node.name.value === "__type") {
        context.reportError(createGraphQLError("GraphQL introspection is disabled in production", { nodes: [node] }));
      }
    },
  });
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
  };
}

export function graphqlLimitPlugins(env: Pick<Env, "NODE_ENV">): Plugin[] {
  const plugins: Plugin[] = [
    EnvelopArmorPlugin(armorConfig(env)),
    variableListCost({ maxCost: graphqlLimits.maxCost }),
  ];
  if (env.NODE_ENV === "production") plugins.push(disableIntrospection());
  return plugins;
}
