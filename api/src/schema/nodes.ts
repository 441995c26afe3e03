// node(id:) and nodes(ids:): any Node by its global id. Unknown, malformed and foreign ids (a type
// or a row the caller may not read) all answer null, the same way, so no caller learns which ids
// exist; anonymous callers are refused before anything is decoded. Each type's own authScopes
// decide: a fixed rule is checked before the row is loaded, a rule that reads the row (Review)
// right after, and the row is dropped when it fails.
import { decodeGlobalID, resolveNodes } from "@pothos/plugin-relay";
import { ForbiddenError } from "@pothos/plugin-scope-auth";
import { Prisma } from "@steward/db/client";
import type { GraphQLResolveInfo } from "graphql";
import { createGraphQLError } from "graphql-yoga";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { isUuid } from "@steward/core/ids";

/** At most this many ids per nodes(ids:) call (more is refused with TOO_MANY_IDS, before any loading). */
export const MAX_NODE_IDS = 100;

type ScopeMap = Parameters<typeof builder.runAuthScopes>[1];
type TypeScopes = ScopeMap | ((parent: unknown, context: Context) => ScopeMap | Promise<ScopeMap>);
interface NodeRef {
  typename: string;
  id: string;
}

function decode(globalId: string): NodeRef | null {
  try {
    return decodeGlobalID(globalId);
  } catch {
    return null;
  }
}

function isNodeType(info: GraphQLResolveInfo, typename: string): boolean {
  const type = info.schema.getType(typename);
  return (
    type !== null &&
    type !== undefined &&
    "getInterfaces" in type &&
    !("resolveType" in type && typeof type.resolveType === "function") &&
    type.getInterfaces().some((iface) => iface.name === "Node")
  );
}

/** The type's own authScopes; a Node type without any is not readable through node(id:) at all. */
function scopesOf(typename: string): TypeScopes | null {
  const options = builder.configStore.getTypeConfig(typename, "Object").pothosOptions as { authScopes?: TypeScopes };
  return options.authScopes ?? null;
}

async function allows(context: Context, scopes: ScopeMap): Promise<boolean> {
  try {
    await builder.runAuthScopes(context, scopes);
    return true;
  } catch (error) {
    if (error instanceof ForbiddenError) return false;
    throw error;
  }
}

/** Not found (findUniqueOrThrow) or an id the column cannot hold (not a UUID): both are "no such node". */
function isNoSuchRow(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError) return error.code === "P2025" || error.code === "P2023";
  // PostgreSQL's invalid_text_representation, as the pg driver adapter reports it.
  const cause = typeof error === "object" && error !== null && "cause" in error ? error.cause : null;
  return typeof cause === "object" && cause !== null && "code" in cause && cause.code === "22P02";
}

/** Decoded, a Node type, and allowed by a rule that does not depend on the row; else null. */
async function authorizedRef(context: Context, info: GraphQLResolveInfo, globalId: string) {
  // Longer than any id we issue: not worth decoding.
  if (globalId.length > 256) return null;
  const ref = decode(globalId);
  if (!ref || !isNodeType(info, ref.typename)) return null;
  const scopes = scopesOf(ref.typename);
  if (scopes === null) return null;
  if (typeof scopes !== "function" && !(await allows(context, scopes))) return null;
  return { ref, scopes };
}

async function loadNode(context: Context, info: GraphQLResolveInfo, globalId: string): Promise<unknown> {
  // Authorization before loading, whenever the rule does not depend on the row.
  const authorized = await authorizedRef(context, info, globalId);
  if (!authorized) return null;
  const { ref, scopes } = authorized;
  let node: unknown;
  try {
    [node] = await resolveNodes(builder, context, info, [ref]);
  } catch (error) {
    if (isNoSuchRow(error)) return null;
    throw error;
  }
  if (node === null || node === undefined) return null;
  if (typeof scopes === "function" && !(await allows(context, await scopes(node, context)))) return null;
  return node;
}

/** Whether the id's raw part is a UUID, which no id column refuses. */
function rawIdIsUuid(globalId: string): boolean {
  return isUuid(decode(globalId)?.id ?? "");
}

const NodeInterface = builder.nodeInterfaceRef();

builder.queryFields((t) => ({
  node: t.field({
    type: NodeInterface,
    nullable: true,
    description: "Any object by its global id; null when there is none the caller may read.",
    authScopes: { signedIn: true },
    args: { id: t.arg.id() },
    resolve: (_root, args, context, info) => loadNode(context, info, String(args.id)),
  }),
  nodes: t.field({
    type: [NodeInterface],
    nullable: { list: false, items: true },
    description: `Objects by their global ids (at most ${MAX_NODE_IDS}), in order; null for each id the caller may not read.`,
    authScopes: { signedIn: true },
    args: { ids: t.arg.idList() },
    resolve: async (_root, args, context, info) => {
      if (args.ids.length > MAX_NODE_IDS) {
        throw createGraphQLError(`At most ${MAX_NODE_IDS} ids per nodes(ids:) call; ${args.ids.length} were sent`, {
          extensions: { code: "TOO_MANY_IDS", maxIds: MAX_NODE_IDS },
        });
      }
      const ids = args.ids.map(String);
      const results: unknown[] = ids.map(() => null);
      // Prisma batches the lookups of one tick into one query, which a non-UUID id for a UUID
      // column would fail as a whole: UUIDs load together, anything else one at a time after.
      const indexes = ids.map((_id, index) => index);
      await Promise.all(
        indexes
          .filter((index) => rawIdIsUuid(ids[index]!))
          .map(async (index) => (results[index] = await loadNode(context, info, ids[index]!))),
      );
      for (const index of indexes.filter((candidate) => !rawIdIsUuid(ids[candidate]!))) {
        results[index] = await loadNode(context, info, ids[index]!);
      }
      return results;
    },
  }),
}));
