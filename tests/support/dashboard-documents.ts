// Every GraphQL operation the dashboard sends, read from its source (gql.tada `graphql(\`…\`)`
// documents), each with the fragments it spreads, so tests can send exactly what the browser sends.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type FragmentDefinitionNode,
  Kind,
  type OperationDefinitionNode,
  OperationTypeNode,
  parse,
  print,
  visit,
} from "graphql";

const operationKinds: Record<OperationTypeNode, "query" | "mutation" | "subscription"> = {
  [OperationTypeNode.QUERY]: "query",
  [OperationTypeNode.MUTATION]: "mutation",
  [OperationTypeNode.SUBSCRIPTION]: "subscription",
};

export interface DashboardOperation {
  name: string;
  kind: "query" | "mutation" | "subscription";
  /** The operation followed by every fragment it uses, as one document. */
  source: string;
  /** Whether it declares a variable that has to be given. */
  hasRequiredVariables: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|svelte)$/.test(entry.name) ? [path] : [];
  });
}

export function dashboardOperations(webSrc = join(import.meta.dirname, "../../web/src")): DashboardOperation[] {
  const operations: OperationDefinitionNode[] = [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const file of sourceFiles(webSrc)) {
    for (const match of readFileSync(file, "utf8").matchAll(/\bgraphql\(\s*`([^`]*)`/g)) {
      for (const definition of parse(match[1] ?? "").definitions) {
        if (definition.kind === Kind.OPERATION_DEFINITION) operations.push(definition);
        // gql.tada's runtime drops its client-only @_unmask directive before a document is sent.
        if (definition.kind === Kind.FRAGMENT_DEFINITION)
          fragments.set(definition.name.value, {
            ...definition,
            directives: definition.directives?.filter((directive) => directive.name.value !== "_unmask"),
          });
      }
    }
  }
  const fragmentsUsedBy = (node: OperationDefinitionNode | FragmentDefinitionNode, seen = new Set<string>()) => {
    visit(node, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        const fragment = fragments.get(name);
        if (!fragment) throw new Error(`The dashboard spreads an unknown fragment ${name}`);
        if (seen.has(name)) return;
        seen.add(name);
        fragmentsUsedBy(fragment, seen);
      },
    });
    return seen;
  };
  return operations.map((operation) => ({
    name: operation.name?.value ?? "(anonymous)",
    kind: operationKinds[operation.operation],
    source: [operation, ...[...fragmentsUsedBy(operation)].map((name) => fragments.get(name)!)]
      .map((definition) => print(definition))
      .join("\n\n"),
    hasRequiredVariables: (operation.variableDefinitions ?? []).some(
      (variable) => variable.type.kind === Kind.NON_NULL_TYPE && !variable.defaultValue,
    ),
  }));
}
