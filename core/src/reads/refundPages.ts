// The refund list (the dashboard's Refunds page): one hand-written statement with each request's
// payment, business and decider (issue 17; see ./reviewPages.ts for why). Oldest purchase first,
// so the requests closest to the 3-day deadline are on top.
import type { Prisma, RefundRequest, RefundRequestStatus } from "@steward/db/client";
import type { CoreDeps } from "../deps.ts";
import { isUuid } from "../ids.ts";
import { forwardWindow, fromJson, type JsonRow, operatorJson, Params, type PageWindow } from "./rows.ts";

export interface RefundPageQuery extends Omit<PageWindow, "cursor"> {
  include?: Prisma.RefundRequestInclude;
  select?: Prisma.RefundRequestSelect;
  cursor?: Prisma.RefundRequestWhereUniqueInput;
}

export interface RefundListFilter {
  status?: RefundRequestStatus | null;
  businessId?: string | null;
}

type RawRefund = RefundRequest & { payment: JsonRow; business: JsonRow; decidedBy: JsonRow | null };

export async function refundRequestPage(
  deps: Pick<CoreDeps, "db" | "sql">,
  query: RefundPageQuery,
  filter: RefundListFilter | null | undefined,
): Promise<RefundRequest[]> {
  const status = filter?.status ?? "PENDING";
  const businessId = filter?.businessId ?? null;
  const window = forwardWindow(query);
  if (!window) {
    return deps.db.refundRequest.findMany({
      ...query,
      where: { status, ...(businessId ? { businessId } : {}) },
      orderBy: [{ payment: { purchasedAt: "asc" } }, { id: "asc" }],
    });
  }
  if ((businessId && !isUuid(businessId)) || (window.after && !isUuid(window.after))) return [];
  const params = new Params();
  const conditions = [`q.status = ${params.add(status, `"RefundRequestStatus"`)}`];
  if (businessId) conditions.push(`q."businessId" = ${params.add(businessId, "uuid")}`);
  // After a cursor: past the cursor request's (purchase time, id); a cursor naming no request joins nothing.
  const cursor = window.after
    ? `, (SELECT cq.id, cp."purchasedAt" FROM "RefundRequest" cq JOIN "Payment" cp ON cp.id = cq."paymentId"
          WHERE cq.id = ${params.add(window.after, "uuid")}) c`
    : "";
  if (cursor)
    conditions.push(`p."purchasedAt" >= c."purchasedAt" AND (p."purchasedAt", q.id) > (c."purchasedAt", c.id)`);
  const rows = await deps.sql.rows<RawRefund>(
    `SELECT q.*, to_jsonb(p) AS payment, to_jsonb(b) AS business, ${operatorJson("o")} AS "decidedBy"
       FROM "RefundRequest" q
       JOIN "Payment" p ON p.id = q."paymentId"
       JOIN "Business" b ON b.id = q."businessId"
       LEFT JOIN "Operator" o ON o.id = q."decidedById"${cursor}
      WHERE ${conditions.join(" AND ")}
      ORDER BY p."purchasedAt", q.id LIMIT ${params.add(window.take, "int")}`,
    params.values,
  );
  for (const request of rows) {
    fromJson(request.payment, "Payment");
    fromJson(request.business, "Business");
    if (request.decidedBy) fromJson(request.decidedBy, "Operator");
  }
  return rows;
}
