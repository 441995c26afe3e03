// The refund list (the dashboard's Refunds page): one hand-written statement with each request's
// payment, business and decider (issue 17; see ./reviewPages.ts for why). Oldest purchase first,
// so the requests closest to the 3-day deadline are on top.
import type { Prisma, RefundRequest, RefundRequestStatus } from "@steward/db/client";
import type { CoreDeps } from "../deps.ts";
import { isUuid } from "../ids.ts";
import {
  forwardWindow,
  fromJson,
  type JsonRow,
  operatorJson,
  Params,
  type PageWindow,
  relationJson,
  requested,
  selectedColumns,
} from "./rows.ts";

export interface RefundPageQuery extends Omit<PageWindow, "cursor"> {
  include?: Prisma.RefundRequestInclude;
  select?: Prisma.RefundRequestSelect;
  cursor?: Prisma.RefundRequestWhereUniqueInput;
}

export interface RefundListFilter {
  status?: RefundRequestStatus | null;
  businessId?: string | null;
}

type RawRefund = RefundRequest & { payment?: JsonRow; business?: JsonRow; decidedBy?: JsonRow | null };

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
  // The related rows the document asks for (Pothos' query names them): the payment with only the
  // columns its fields select (three of fourteen for the dashboard), the others whole.
  const columns = [
    `q.*`,
    ...(requested(query, "payment") ? [`${relationJson("p", selectedColumns(query, "payment"))} AS payment`] : []),
    ...(requested(query, "business")
      ? [`(SELECT to_jsonb(b) FROM "Business" b WHERE b.id = q."businessId") AS business`]
      : []),
    ...(requested(query, "decidedBy")
      ? [`(SELECT ${operatorJson("o")} FROM "Operator" o WHERE o.id = q."decidedById") AS "decidedBy"`]
      : []),
  ];
  const rows = await deps.sql.rows<RawRefund>(
    `SELECT ${columns.join(", ")}
       FROM "RefundRequest" q
       JOIN "Payment" p ON p.id = q."paymentId"${cursor}
      WHERE ${conditions.join(" AND ")}
      ORDER BY p."purchasedAt", q.id LIMIT ${params.add(window.take, "int")}`,
    params.values,
  );
  for (const request of rows) {
    if (request.payment) fromJson(request.payment, "Payment");
    if (request.business) fromJson(request.business, "Business");
    if (request.decidedBy) fromJson(request.decidedBy, "Operator");
  }
  return rows;
}
