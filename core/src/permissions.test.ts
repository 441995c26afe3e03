// The autonomy rules of PRODUCT.md §8 as data: a VIEWER only reads, an OPERATOR operates but does
// not administer, an ADMIN does everything; integrations act only through their token scopes.
import { describe, expect, it } from "vitest";
import { type Actor, ANONYMOUS, systemActor } from "./actor.ts";
import { ForbiddenActionError } from "./errors.ts";
import { assertOperatorCan, type Capability, roleCan, tokenHasScope } from "./permissions.ts";

const operator = (role: "VIEWER" | "OPERATOR" | "ADMIN"): Actor => ({
  kind: "OPERATOR",
  id: `${role}-id`,
  email: `${role.toLowerCase()}@test.example`,
  name: role,
  role,
});
const token: Actor = { kind: "API_TOKEN", id: "token-id", name: "marketplace", scopes: ["read", "reviews:write"] };

describe("roleCan", () => {
  it.each([
    ["VIEWER", { read: true, operate: false, administer: false }],
    ["OPERATOR", { read: true, operate: true, administer: false }],
    ["ADMIN", { read: true, operate: true, administer: true }],
  ] as const)("%s", (role, expected) => {
    const actual = Object.fromEntries(
      (["read", "operate", "administer"] as const).map((capability) => [capability, roleCan(role, capability)]),
    );
    expect(actual).toEqual(expected);
  });
});

describe("assertOperatorCan", () => {
  it.each<[string, Actor, Capability]>([
    ["a VIEWER operating", operator("VIEWER"), "operate"],
    ["a VIEWER administering", operator("VIEWER"), "administer"],
    ["an OPERATOR administering", operator("OPERATOR"), "administer"],
    ["an API token reading as an operator", token, "read"],
    ["an API token operating", token, "operate"],
    ["an anonymous caller reading", ANONYMOUS, "read"],
  ])("refuses %s with ForbiddenActionError", (_case, actor, capability) => {
    expect(() => assertOperatorCan(actor, capability)).toThrow(ForbiddenActionError);
    expect(() => assertOperatorCan(actor, capability)).toThrow(`needs the '${capability}' permission`);
  });

  it.each<[string, Actor, Capability]>([
    ["a VIEWER reading", operator("VIEWER"), "read"],
    ["an OPERATOR operating", operator("OPERATOR"), "operate"],
    ["an ADMIN administering", operator("ADMIN"), "administer"],
    ["the system (jobs, rules) operating", systemActor("featured-expiry"), "operate"],
  ])("allows %s", (_case, actor, capability) => {
    expect(() => assertOperatorCan(actor, capability)).not.toThrow();
  });
});

describe("tokenHasScope", () => {
  it("grants an API token exactly its scopes", () => {
    expect(tokenHasScope(token, "read")).toBe(true);
    expect(tokenHasScope(token, "reviews:write")).toBe(true);
    expect(tokenHasScope(token, "refunds:write")).toBe(false);
  });

  it("never grants a scope to an operator or an anonymous caller", () => {
    expect(tokenHasScope(operator("ADMIN"), "read")).toBe(false);
    expect(tokenHasScope(ANONYMOUS, "read")).toBe(false);
  });
});
