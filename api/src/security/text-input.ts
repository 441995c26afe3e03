// Every operation's text and variables are checked for text PostgreSQL cannot store (NUL,
// unpaired surrogates: core/src/text.ts) before anything runs, over HTTP and graphql-ws alike:
// one check at the edge instead of a rule on each String argument, so a new argument is covered
// too. The refusal is a typed error (BAD_USER_INPUT, HTTP 400), never "Unexpected error".
import { isStorableText, unstorableTextPath } from "@steward/core/text";
import type { ASTVisitor, GraphQLError, ValidationContext } from "graphql";
import { createGraphQLError, type Plugin } from "graphql-yoga";

export const UNSTORABLE_TEXT_CODE = "BAD_USER_INPUT";

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
      const error = unstorableTextError(params);
      if (error) setResult({ errors: [error] });
    },
    onValidate({ addValidationRule }) {
      addValidationRule(storableLiterals);
    },
  };
}
