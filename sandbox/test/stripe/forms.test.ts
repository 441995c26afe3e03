import { describe, expect, it } from "vitest";
import { canonicalParams, parseForm } from "../../src/stripe/forms.ts";
import { TimeOrderedList } from "../../src/stripe/store.ts";

describe("parseForm (Stripe bracket encoding)", () => {
  it("parses nested hashes, indexed and pushed arrays", () => {
    const parsed = parseForm(
      "amount=2200&metadata[business_id]=b%201&metadata[0]=zero&created[gte]=10&expand[0]=a&expand[1]=b&types[]=x&types[]=y&description=a+b&deep[a][b]=c",
    );
    expect(parsed).toEqual({
      amount: "2200",
      metadata: { business_id: "b 1", "0": "zero" },
      created: { gte: "10" },
      expand: ["a", "b"],
      types: ["x", "y"],
      description: "a b",
      deep: { a: { b: "c" } },
    });
  });

  it("accepts percent-encoded brackets and keeps malformed keys whole", () => {
    expect(parseForm("metadata%5Bk%5D=v&odd[=1&x]=2")).toEqual({
      metadata: { k: "v" },
      "odd[": "1",
      "x]": "2",
    });
  });

  it("canonical form ignores key order", () => {
    expect(canonicalParams(parseForm("a=1&m[x]=1&m[y]=2"))).toBe(canonicalParams(parseForm("m[y]=2&a=1&m[x]=1")));
    expect(canonicalParams(parseForm("a=1"))).not.toBe(canonicalParams(parseForm("a=2")));
  });
});

describe("TimeOrderedList pagination", () => {
  const list = new TimeOrderedList<{ id: string; created: number }>("charge");
  // Inserted out of order on purpose.
  for (const [id, created] of [
    ["c", 20],
    ["a", 10],
    ["e", 30],
    ["b", 10],
    ["d", 20],
  ] as const) {
    list.insert({ id, created });
  }

  it("lists newest first with ties broken by id", () => {
    expect(list.page({ limit: 10 }).data.map((x) => x.id)).toEqual(["e", "d", "c", "b", "a"]);
  });

  it("pages with starting_after / ending_before and created bounds", () => {
    expect(list.page({ limit: 2, startingAfter: "d" })).toEqual({
      data: [
        { id: "c", created: 20 },
        { id: "b", created: 10 },
      ],
      hasMore: true,
    });
    expect(list.page({ limit: 2, endingBefore: "b" })).toEqual({
      data: [
        { id: "d", created: 20 },
        { id: "c", created: 20 },
      ],
      hasMore: true,
    });
    expect(list.page({ limit: 5, endingBefore: "d" })).toEqual({
      data: [{ id: "e", created: 30 }],
      hasMore: false,
    });
    expect(list.page({ limit: 10, created: { gte: 20, lt: 30 } }).data.map((x) => x.id)).toEqual(["d", "c"]);
    expect(list.page({ limit: 10, created: { gt: 10, lte: 30 } }).data.map((x) => x.id)).toEqual(["e", "d", "c"]);
    expect(list.page({ limit: 10, created: { gt: 30 } }).data).toEqual([]);
    expect(list.page({ limit: 1, created: { lte: 20 } }, (x) => x.id !== "d")).toEqual({
      data: [{ id: "c", created: 20 }],
      hasMore: true,
    });
  });

  it("refuses an unknown cursor", () => {
    expect(() => list.page({ limit: 1, startingAfter: "zz" })).toThrow(/No such charge/);
  });
});
