// The 3-day rule at its boundaries, and what the operator and the business are told.
import { describe, expect, it } from "vitest";
import { refundApprovedEmail, refundDeniedEmail } from "./email/templates.ts";
import { RefundIneligibleError, refundEligibility } from "./refunds.ts";

const HOUR = 3_600_000;
const MINUTE = 60_000;
const purchasedAt = new Date("2026-11-20T03:00:00Z"); // 20 Nov 2026, 14:00 in Melbourne
const after = (ms: number) => new Date(purchasedAt.getTime() + ms);

describe("refundEligibility", () => {
  it("is eligible at 71 h 59 m, expiring soon, with 1 minute left", () => {
    const result = refundEligibility(purchasedAt, after(71 * HOUR + 59 * MINUTE));
    expect(result).toMatchObject({ eligible: true, daysElapsed: 2, msLeft: MINUTE, expiresSoon: true });
    expect(result.closesAt.toISOString()).toBe("2026-11-23T03:00:00.000Z");
  });

  it("is not eligible at exactly 72 h 00 m (the rule is strictly less than 3 days)", () => {
    expect(refundEligibility(purchasedAt, after(72 * HOUR))).toMatchObject({
      eligible: false,
      daysElapsed: 3,
      msLeft: 0,
      expiresSoon: false,
    });
  });

  it("is not eligible one millisecond after 72 h, nor days later", () => {
    expect(refundEligibility(purchasedAt, after(72 * HOUR + 1)).eligible).toBe(false);
    expect(refundEligibility(purchasedAt, after(10 * 24 * HOUR)).daysElapsed).toBe(10);
  });

  it("marks a request as expiring soon only in its last 12 hours", () => {
    expect(refundEligibility(purchasedAt, after(60 * HOUR)).expiresSoon).toBe(false);
    expect(refundEligibility(purchasedAt, after(60 * HOUR + 1)).expiresSoon).toBe(true);
    expect(refundEligibility(purchasedAt, after(HOUR))).toMatchObject({ eligible: true, daysElapsed: 0 });
  });
});

describe("RefundIneligibleError", () => {
  it("says when the purchase was and how long ago, in the marketplace's time zone", () => {
    const error = new RefundIneligibleError(purchasedAt, 3, "Australia/Melbourne");
    expect(error.message).toBe("Purchased on 20 Nov 2026, 3 days ago: refunds are only possible within 3 days");
    expect(error.code).toBe("REFUND_INELIGIBLE");
  });
});

describe("refund emails", () => {
  const facts = {
    businessName: "Good Dog <Yarra> & Co",
    amountCents: 2200,
    currency: "aud",
    purchasedAt,
    timeZone: "Australia/Melbourne",
  };

  it("confirms an approved refund with amount, date and reference, in text and escaped HTML", () => {
    const email = refundApprovedEmail({ ...facts, stripeRefundId: "re_123" });
    expect(email.subject).toBe("Your refund of AUD 22.00 has been processed");
    expect(email.text).toContain("Refund processed: we have refunded AUD 22.00");
    expect(email.text).toContain("purchased on 20 Nov 2026");
    expect(email.text).toContain("3–5 business days");
    expect(email.text).toContain("re_123");
    expect(email.html).toContain("Good Dog &lt;Yarra&gt; &amp; Co");
    expect(email.html).not.toContain("<Yarra>");
  });

  it("states the purchase date and the days elapsed when denying outside the window", () => {
    const email = refundDeniedEmail({
      ...facts,
      decidedAt: after(5 * 24 * HOUR + 2 * HOUR),
      reason: "Outside the 3-day window",
      outsideWindow: true,
      windowDays: 3,
    });
    expect(email.text).toContain(
      "Unfortunately, refunds are only available within 3 days of purchase. Your purchase was on 20 Nov 2026, which is 5 days ago. We cannot process this refund.",
    );
    expect(email.text).toContain("Our note: Outside the 3-day window");
    expect(email.html).toContain("which is 5 days ago");
  });

  it("words one day and less than a day correctly", () => {
    const oneDay = refundDeniedEmail({
      ...facts,
      decidedAt: after(30 * HOUR),
      reason: "Duplicate request",
      outsideWindow: false,
      windowDays: 3,
    });
    expect(oneDay.text).toContain("Your purchase was on 20 Nov 2026, which is 1 day ago.");
    const sameDay = refundDeniedEmail({
      ...facts,
      decidedAt: after(HOUR),
      reason: "x y z",
      outsideWindow: false,
      windowDays: 3,
    });
    expect(sameDay.text).toContain("which is less than a day ago.");
  });
});
