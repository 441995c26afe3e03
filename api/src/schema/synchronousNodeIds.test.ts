// Every node's id comes back as a string, not a promise (one promise per row put a page on
// graphql-js' promise path, issue 17), and it is the id relay would have encoded.
import { decodeGlobalID, encodeGlobalID } from "@pothos/plugin-relay";
import type { GraphQLObjectType, GraphQLResolveInfo } from "graphql";
import { describe, expect, it } from "vitest";
import { schema } from "./index.ts";

const nodeTypes = Object.values(schema.getTypeMap()).filter(
  (type): type is GraphQLObjectType =>
    "getInterfaces" in type && type.getInterfaces().some((implemented) => implemented.name === "Node"),
);

describe("node ids", () => {
  it("covers the hot pages' types", () => {
    expect(nodeTypes.map((type) => type.name)).toEqual(expect.arrayContaining(["Review", "Business", "RefundRequest"]));
  });

  it.each(nodeTypes.map((type) => [type.name, type] as const))(
    "%s.id resolves synchronously to relay's global id",
    (name, type) => {
      const rowId = "0190a6a2-2f0e-7cc0-8a4b-5a4c2d1e9f00";
      const id = type.getFields().id!.resolve!({ id: rowId }, {}, {}, {} as GraphQLResolveInfo);
      expect(id).toBe(encodeGlobalID(name, rowId));
      expect(decodeGlobalID(id as string)).toEqual({ typename: name, id: rowId });
    },
  );
});
