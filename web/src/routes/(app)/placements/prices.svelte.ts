// State for the Placements page's prices and held charges. Every decision goes to the API, which
// checks roles and locks the payment: a second click or a second operator gets a clear refusal.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import {
  AcceptHeldPaymentMutation,
  type HeldPayment,
  PricesQuery,
  RefundHeldPaymentMutation,
  type RegionPrice,
  SetRegionPriceMutation,
} from "./price-operations.ts";
import type { Notice } from "$lib/notice.ts";

const NO_ANSWER = "The API returned no answer. Try again.";

/** Minor units per major unit's digits (2 for AUD, 0 for JPY), as Intl knows them. */
function fractionDigits(currency: string): number {
  return (
    new Intl.NumberFormat("en", { style: "currency", currency: currency.toUpperCase() }).resolvedOptions()
      .maximumFractionDigits ?? 2
  );
}

export function formatPrice(minorUnits: number, currency: string): string {
  try {
    const code = currency.toUpperCase();
    return new Intl.NumberFormat("en-AU", { style: "currency", currency: code }).format(
      minorUnits / 10 ** fractionDigits(code),
    );
  } catch {
    return `${minorUnits} ${currency.toUpperCase()} (minor units)`;
  }
}

/** What a person typed ("49.00") in minor units, or null when it is not a price above zero. */
export function toMinorUnits(text: string, currency: string): number | null {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) return null;
  const value = Math.round(Number(text.trim()) * 10 ** fractionDigits(currency));
  return Number.isSafeInteger(value) && value >= 1 ? value : null;
}

/** The price as a person would type it back ("22.00"). */
export function majorUnits(minorUnits: number, currency: string): string {
  const digits = fractionDigits(currency);
  return (minorUnits / 10 ** digits).toFixed(digits);
}

export class PricesAndHolds {
  regions = $state<RegionPrice[]>([]);
  held = $state<HeldPayment[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  readonly busy = new SvelteSet<string>();
  readonly notices = new SvelteMap<string, Notice>();
  readonly #client: Client;

  constructor(client: Client) {
    this.#client = client;
  }

  async load(): Promise<void> {
    const result = await this.#client.query(PricesQuery, {}, { requestPolicy: "network-only" }).toPromise();
    this.loading = false;
    if (result.error || !result.data) {
      this.error = result.error ? errorMessage(result.error) : NO_ANSWER;
      return;
    }
    this.error = null;
    this.regions = result.data.regions;
    this.held = result.data.heldPayments;
  }

  async setPrice(region: RegionPrice, amount: string, currency: string): Promise<boolean> {
    const code = currency.trim().toLowerCase();
    if (!/^[a-z]{3}$/.test(code)) {
      this.notices.set(region.id, { kind: "error", text: "Enter a 3-letter currency code (e.g. AUD)." });
      return false;
    }
    const priceCents = toMinorUnits(amount, code);
    if (priceCents === null) {
      this.notices.set(region.id, { kind: "error", text: "Enter a price above zero, e.g. 22.00." });
      return false;
    }
    this.busy.add(region.id);
    const result = await this.#client
      .mutation(SetRegionPriceMutation, { regionId: region.id, priceCents, currency: code })
      .toPromise();
    this.busy.delete(region.id);
    const outcome = result.data?.setRegionPrice;
    if (result.error || !outcome) {
      this.notices.set(region.id, { kind: "error", text: result.error ? errorMessage(result.error) : NO_ANSWER });
      return false;
    }
    if (outcome.__typename !== "MutationSetRegionPriceSuccess") {
      this.notices.set(region.id, { kind: "error", text: outcome.message });
      return false;
    }
    const updated = outcome.data;
    this.regions = this.regions.map((known) => (known.id === updated.id ? { ...known, ...updated } : known));
    this.notices.set(region.id, {
      kind: "success",
      text: `${region.name}: a placement now costs ${formatPrice(updated.placementPriceCents, updated.placementCurrency)}.`,
    });
    return true;
  }

  async accept(payment: HeldPayment): Promise<void> {
    this.busy.add(payment.id);
    const result = await this.#client.mutation(AcceptHeldPaymentMutation, { paymentId: payment.id }).toPromise();
    this.busy.delete(payment.id);
    const outcome = result.data?.acceptHeldPayment;
    if (result.error || !outcome) {
      this.notices.set(payment.id, { kind: "error", text: result.error ? errorMessage(result.error) : NO_ANSWER });
      return;
    }
    if (outcome.__typename !== "MutationAcceptHeldPaymentSuccess") {
      this.notices.set(payment.id, { kind: "error", text: outcome.message });
      return;
    }
    this.held = this.held.filter((known) => known.id !== payment.id);
    this.notices.set("held", {
      kind: "success",
      text: `Accepted ${payment.business.name}'s charge: placement ${outcome.data.placement?.status.toLowerCase() ?? "bought"}.`,
    });
  }

  async refund(payment: HeldPayment, reason: string): Promise<void> {
    this.busy.add(payment.id);
    const result = await this.#client
      .mutation(RefundHeldPaymentMutation, { paymentId: payment.id, reason })
      .toPromise();
    this.busy.delete(payment.id);
    const outcome = result.data?.refundHeldPayment;
    if (result.error || !outcome) {
      this.notices.set(payment.id, { kind: "error", text: result.error ? errorMessage(result.error) : NO_ANSWER });
      return;
    }
    if (outcome.__typename !== "MutationRefundHeldPaymentSuccess") {
      this.notices.set(payment.id, { kind: "error", text: outcome.message });
      return;
    }
    this.held = this.held.filter((known) => known.id !== payment.id);
    this.notices.set("held", {
      kind: "success",
      text:
        outcome.data.status === "APPROVED"
          ? `Refunded ${payment.business.name}'s charge in full.`
          : `Refund of ${payment.business.name}'s charge is under way (Stripe is retried automatically).`,
    });
  }
}
