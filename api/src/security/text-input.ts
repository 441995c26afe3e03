// Every operation's text and variables are checked for text PostgreSQL cannot store (NUL,
// unpaired surrogates: core/src/text.ts) before anything runs, over HTTP and graphql-ws alike:
// one check at the edge instead of a rule on each String argument, so a new argument is covered
// too. The refusal is a typed error (BAD_USER_INPUT, HTTP 400), never "Unexpected error".
import { isStorableText, unstorableTextPath } from "@steward/core/text";
import type { ASTVisitor, GraphQLError, ValidationContext } from "graphql";
import { createGraphQLError, type Plugin } from "graphql-yoga";

export const UNSTORABLE_TEXT_CODE = "BAD_USER_INPUT";

/**
 * Deeper than any input type or JSON argument needs. The checks that walk the variables (the
 * storable text below, the list cost, graphql-js's coercion) recurse, and a 40 kB body of "[[[…"
 * overflowed the stack: a 500 for anyone, signed in or not.
 */
export const MAX_VARIABLE_DEPTH = 64;

/** Whether `value` nests arrays or objects deeper than `max`, found without recursion. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== "object") continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) pending.push([child, depth + 1]);
  }
  return false;
}

/** Variables nested too deep, or text PostgreSQL cannot store: checked before anything else reads them. */
export function unacceptableInputError(params: { query?: unknown; variables?: unknown }): GraphQLError | null {
  if (nestedDeeperThan(params.variables, MAX_VARIABLE_DEPTH + 1))
    return createGraphQLError(`Variables may not be nested deeper than ${MAX_VARIABLE_DEPTH} levels`, {
      extensions: { code: UNSTORABLE_TEXT_CODE, http: { status: 400 } },
    });
  return unstorableTextError(params);
}

export function unstorableTextError(params: { query?: unknown; variables?: unknown }): GraphQLError | null {
  const where =
    typeof params.query === "string" && !isStorableText(params.query)
      ? "the document"
      : unstorableTextPath(params.variables, "variables");
  if (!where) return null;
  return createGraphQLError(
    `Text may not contain NUL characters (\\u0000) or unpaired UTF-16 surrogates (in ${where})`,
    { extensions: { code: UNSTORABLE_TEXT_CODE, http: { status: 400 } } },
  );
}

/** A string literal in the document whose escapes spell NUL or a lone surrogate ("\\u0000"). */
function storableLiterals(context: ValidationContext): ASTVisitor {
  return {
    StringValue(node) {
      if (isStorableText(node.value)) return;
      context.reportError(
        createGraphQLError("Text may not contain NUL characters (\\u0000) or unpaired UTF-16 surrogates", {
          nodes: [node],
          extensions: { code: UNSTORABLE_TEXT_CODE },
        }),
      );
    },
  };
}

export function rejectUnstorableText(): Plugin {
  return {
    onParams({ params, setResult }) {
      const error = unacceptableInputError(params);
      if (error) setResult({ errors: [error] });
    },
    onValidate({ addValidationRule }) {
      addValidationRule(storableLiterals);
    },
  };
}
