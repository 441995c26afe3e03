// Every node type's `id` resolved through Pothos' relay `globalID` field, whose resolver is an
// `async` function: each row of a page answered its id with a promise, and graphql-js then took
// its promise path for the whole row (a microtask, an aggregate per object, the garbage of both).
// On a 50-row review page that was 100 promises (Review.id, Business.id) per request (issue 17).
// Every node here is a Prisma model whose global id encodes its own `id` column, so the ids are
// encoded here, synchronously, with relay's own encoding: the same strings, no promise.
import { encodeGlobalID } from "@pothos/plugin-relay";
import type { GraphQLNamedType, GraphQLObjectType, GraphQLSchema } from "graphql";

// By shape, not `isObjectType`: under Vitest the schema's classes may come from a second copy of
// graphql, which graphql's own `instanceof` checks refuse (see builder.ts).
const isNode = (type: GraphQLNamedType): type is GraphQLObjectType =>
  "getInterfaces" in type && "getFields" in type && type.getInterfaces().some(({ name }) => name === "Node");

export function withSynchronousNodeIds(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isNode(type)) continue;
    const id = type.getFields().id;
    if (!id) throw new Error(`${type.name} implements Node without an id field`);
    const typeName = type.name;
    id.resolve = (row: { id: string | number }) => encodeGlobalID(typeName, String(row.id));
  }
  return schema;
}
