// State for the Placements page's prices and held charges. Every decision goes to the API, which
// checks roles and locks the payment: a second click or a second operator gets a clear refusal.
import type { Client } from "@urql/core";
import { LiveQuery } from "$lib/live-query.svelte.ts";
import type { LiveConnection } from "$lib/live.svelte.ts";
import { runMutation } from "$lib/mutation.ts";
import type { Notice } from "$lib/notice.ts";
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import {
  AcceptHeldPaymentMutation,
  type HeldPayment,
  PricesQuery,
  RefundHeldPaymentMutation,
  type RegionPrice,
  SetRegionPriceMutation,
} from "./price-operations.ts";

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
  readonly busy = new SvelteSet<string>();
  readonly notices = new SvelteMap<string, Notice>();
  /** Held charges accepted or refunded here: they leave the list at once. */
  readonly #decided = new SvelteSet<string>();
  readonly #client: Client;
  readonly #prices;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.#prices = new LiveQuery({ client, live, query: PricesQuery, variables: () => ({}) });
  }

  /** The regions' prices; a price set here reaches them through the cache. */
  get regions(): RegionPrice[] {
    return this.#prices.data?.regions ?? [];
  }

  get held(): HeldPayment[] {
    return (this.#prices.data?.heldPayments ?? []).filter((payment) => !this.#decided.has(payment.id));
  }

  get loading(): boolean {
    return this.#prices.loading;
  }

  get error(): string | null {
    return this.#prices.error;
  }

  /** Reads the prices and held charges; returns the function that stops. */
  start(): () => void {
    return this.#prices.start();
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
    const outcome = await runMutation(
      this.#client,
      SetRegionPriceMutation,
      { regionId: region.id, priceCents, currency: code },
      (data) => data.setRegionPrice,
    );
    this.busy.delete(region.id);
    if (!outcome.ok) {
      this.notices.set(region.id, { kind: "error", text: outcome.message });
      return false;
    }
    const updated = outcome.data;
    this.notices.set(region.id, {
      kind: "success",
      text: `${region.name}: a placement now costs ${formatPrice(updated.placementPriceCents, updated.placementCurrency)}.`,
    });
    return true;
  }

  async accept(payment: HeldPayment): Promise<void> {
    this.busy.add(payment.id);
    const outcome = await runMutation(
      this.#client,
      AcceptHeldPaymentMutation,
      { paymentId: payment.id },
      (data) => data.acceptHeldPayment,
    );
    this.busy.delete(payment.id);
    if (!outcome.ok) {
      this.notices.set(payment.id, { kind: "error", text: outcome.message });
      return;
    }
    this.#decided.add(payment.id);
    this.notices.set("held", {
      kind: "success",
      text: `Accepted ${payment.business.name}'s charge: placement ${outcome.data.placement?.status.toLowerCase() ?? "bought"}.`,
    });
  }

  async refund(payment: HeldPayment, reason: string): Promise<void> {
    this.busy.add(payment.id);
    const outcome = await runMutation(
      this.#client,
      RefundHeldPaymentMutation,
      { paymentId: payment.id, reason },
      (data) => data.refundHeldPayment,
    );
    this.busy.delete(payment.id);
    if (!outcome.ok) {
      this.notices.set(payment.id, { kind: "error", text: outcome.message });
      return;
    }
    this.#decided.add(payment.id);
    this.notices.set("held", {
      kind: "success",
      text:
        outcome.data.status === "APPROVED"
          ? `Refunded ${payment.business.name}'s charge in full.`
          : `Refund of ${payment.business.name}'s charge is under way: it shows under Refunded on the Refunds page once Stripe confirms.`,
    });
  }
}
