// graphql-armor prices the document only: a list passed as a variable (50,000 ids for nodes(ids:))
// is invisible to it. Here every element of a list in the variables costs one unit more, added to
// the document's cost, against the same limit; checked before the operation runs (and before its
// variables are even coerced). Not a validation rule: Yoga caches validation per document, and
// the same document may come with a short list one time and a huge one the next.
import { costLimitRule } from "@escape.tech/graphql-armor-cost-limit";
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  Kind,
  type ValidationContext,
} from "graphql";
import { createGraphQLError, type Plugin } from "graphql-yoga";

/** How many list elements the variables hold, at any depth. */
export function listElementsIn(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + 1 + listElementsIn(item), 0);
  if (typeof value === "object" && value !== null)
    return Object.values(value).reduce((sum: number, item) => sum + listElementsIn(item), 0);
  return 0;
}

interface CostOptions {
  maxCost: number;
  objectCost?: number;
  scalarCost?: number;
  depthCostFactor?: number;
}

function refusal(maxCost: number, found: number | string): GraphQLError {
  return createGraphQLError(
    `Query Cost limit of ${maxCost} exceeded, found ${found} (list elements in the variables count too).`,
    { extensions: { code: "GRAPHQL_VALIDATION_FAILED", http: { status: 400, spec: true } } },
  );
}

/**
 * graphql-armor's own cost of the document (the same rule, run on its own): not `validate()`,
 * which under Vitest may be a second copy of graphql that refuses the schema (see builder.ts).
 */
function documentCost(options: CostOptions, document: DocumentNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  // The rule reads only getFragment from its validation context.
  const context = { getFragment: (name: string) => fragments.get(name) } as unknown as ValidationContext;
  let cost = 0;
  const visitor = costLimitRule({
    ...options,
    maxCost: Number.MAX_SAFE_INTEGER,
    propagateOnRejection: false,
    onAccept: [(_context: unknown, details: { n: number }) => (cost = Math.max(cost, details.n))],
  })(context);
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) visitor.onOperationDefinitionEnter(definition);
  }
  return cost;
}

/** Null when within the limit, else the error to answer with. */
function overLimit(options: CostOptions, document: DocumentNode, variables: unknown): GraphQLError | null {
  const elements = listElementsIn(variables);
  if (elements === 0) return null;
  if (elements > options.maxCost) return refusal(options.maxCost, `at least ${elements}`);
  const total = documentCost(options, document) + elements;
  return total > options.maxCost ? refusal(options.maxCost, total) : null;
}

export function variableListCost(options: CostOptions): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = overLimit(options, args.document as DocumentNode, args.variableValues);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = overLimit(options, args.document as DocumentNode, args.variableValues);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
