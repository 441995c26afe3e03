// The mutation helper turns every shape of answer into one outcome the pages show as they are.
import { CombinedError } from "@urql/core";
import { describe, expect, it } from "vitest";
import { NO_ANSWER, noticeFor, unwrap } from "./mutation.ts";
import { appendPage, nextPage } from "./pages.ts";

type ApprovePayload =
  | { __typename: "MutationApproveRefundSuccess"; data: { id: string; status: string } }
  | { __typename: "RefundIneligibleError"; message: string }
  | { __typename: "ValidationError"; message: string; issues: { path: string[]; message: string }[] };

describe("unwrap", () => {
  it("gives the success member's data", () => {
    const payload: ApprovePayload = {
      __typename: "MutationApproveRefundSuccess",
      data: { id: "r1", status: "APPROVED" },
    };
    expect(unwrap(undefined, payload)).toEqual({ ok: true, data: { id: "r1", status: "APPROVED" } });
  });

  it("gives an error member's message, with a validation error's first problem", () => {
    const refused: ApprovePayload = { __typename: "RefundIneligibleError", message: "More than 3 days have passed" };
    expect(unwrap(undefined, refused)).toEqual({ ok: false, message: "More than 3 days have passed" });
    const invalid: ApprovePayload = {
      __typename: "ValidationError",
      message: "Invalid input",
      issues: [{ path: ["slots"], message: "Too many" }],
    };
    expect(unwrap(undefined, invalid)).toEqual({ ok: false, message: "Invalid input: Too many" });
  });

  it("gives a top-level error's message, and says when there was no answer", () => {
    const forbidden = new CombinedError({ graphQLErrors: [{ message: "You are not allowed to do this" }] });
    expect(unwrap<ApprovePayload>(forbidden, undefined)).toEqual({
      ok: false,
      message: "You are not allowed to do this",
    });
    expect(unwrap<ApprovePayload>(undefined, null)).toEqual({ ok: false, message: NO_ANSWER });
  });

  it("makes the notice for either outcome", () => {
    expect(
      noticeFor<ApprovePayload>({ ok: true, data: { id: "r1", status: "APPROVED" } }, (row) => row.status),
    ).toEqual({
      kind: "success",
      text: "APPROVED",
    });
    expect(noticeFor<ApprovePayload>({ ok: false, message: "No" }, () => "yes")).toEqual({ kind: "error", text: "No" });
  });
});

describe("Relay pages", () => {
  it("replaces a row already listed and appends new ones", () => {
    const rows = appendPage(
      [
        { id: "a", v: 1 },
        { id: "b", v: 1 },
      ],
      [
        { id: "b", v: 2 },
        { id: "c", v: 1 },
      ],
    );
    expect(rows).toEqual([
      { id: "a", v: 1 },
      { id: "b", v: 2 },
      { id: "c", v: 1 },
    ]);
  });

  it("offers no next page when the cursor does not move on", () => {
    expect(nextPage({ hasNextPage: true, endCursor: "c2" }, "c1", false)).toEqual({ hasMore: true, cursor: "c2" });
    expect(nextPage({ hasNextPage: true, endCursor: "c1" }, "c1", false)).toEqual({ hasMore: false, cursor: "c1" });
    expect(nextPage({ hasNextPage: true, endCursor: "c1" }, "c1", true)).toEqual({ hasMore: true, cursor: "c1" });
    expect(nextPage({ hasNextPage: false, endCursor: null }, null, true)).toEqual({ hasMore: false, cursor: null });
  });
});
