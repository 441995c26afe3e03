// Pure rules and wording for the Reviews page: labels, the filter form → ReviewFilter, the
// threshold, confidence levels and the classifier's signals. No state, no network.
import type {
  DecisionAction,
  RejectionReason,
  Review,
  ReviewFilter,
  ReviewSort,
  ReviewStatus,
} from "./review-operations.ts";

export const DEFAULT_THRESHOLD = 0.9;
export const MIN_THRESHOLD = 0.5;
export const MAX_THRESHOLD = 1;

export const statusLabels: Record<ReviewStatus, string> = {
  PENDING: "Pending",
  APPROVED: "Approved",
  REJECTED: "Rejected",
};

export const statusChoices: { value: ReviewStatus; label: string }[] = [
  { value: "PENDING", label: "Pending" },
  { value: "APPROVED", label: "Approved" },
  { value: "REJECTED", label: "Rejected" },
];

export const reasonLabels: Record<RejectionReason, string> = {
  SPAM: "Spam",
  PROFANITY: "Profanity",
  OFF_TOPIC: "Off topic",
  OTHER: "Other",
};

export const reasonChoices: { value: RejectionReason; label: string }[] = [
  { value: "SPAM", label: "Spam" },
  { value: "PROFANITY", label: "Profanity" },
  { value: "OFF_TOPIC", label: "Off topic" },
  { value: "OTHER", label: "Other" },
];

export const actionLabels: Record<DecisionAction, string> = {
  APPROVE: "Approved",
  REJECT: "Rejected",
  REOPEN: "Reopened",
};

/** What an empty or cleared number input holds once bound (Svelte gives undefined or null). */
export type NumberField = number | null | undefined;

export interface BusinessChoice {
  /** The Business global id, as ReviewFilter.businessId expects it. */
  id: string;
  name: string;
}

export interface FilterForm {
  status: ReviewStatus;
  minConfidence: NumberField;
  maxConfidence: NumberField;
  /** Raw region UUID (Region.id), or "" for every region. */
  regionId: string;
  business: BusinessChoice | null;
  /** Words in the review or its business's name. */
  search: string;
  /** Only reviews with a suggested rejection reason. */
  suggestedOnly: boolean;
}

export const defaultFilter = (): FilterForm => ({
  status: "PENDING",
  minConfidence: null,
  maxConfidence: null,
  regionId: "",
  business: null,
  search: "",
  suggestedOnly: false,
});

export const sortChoices: { value: ReviewSort; label: string }[] = [
  { value: "OLDEST", label: "Oldest first" },
  { value: "NEWEST", label: "Newest first" },
  { value: "CONFIDENCE_ASC", label: "Lowest confidence" },
  { value: "CONFIDENCE_DESC", label: "Highest confidence" },
  { value: "RATING_ASC", label: "Lowest rating" },
  { value: "RATING_DESC", label: "Highest rating" },
];

/** "Spam 20, Off topic 14": the per-reason counts of a preview or an outcome, zeros left out. */
export function describeReasonCounts(rows: readonly { reason: RejectionReason; count: number }[]): string {
  return rows
    .filter((row) => row.count > 0)
    .map((row) => `${reasonLabels[row.reason]} ${row.count}`)
    .join(", ");
}

/** "3 of 40 (8 %)": how often a suggestion was overridden. */
export function describeOverrides(row: { decisions: number; overridden: number }): string {
  if (row.decisions === 0) return "no decisions yet";
  return `${row.overridden} of ${row.decisions} (${Math.round((100 * row.overridden) / row.decisions)} %)`;
}

export type FilterCheck = { ok: true; filter: ReviewFilter } | { ok: false; message: string };

const isSet = (value: NumberField): value is number => typeof value === "number" && !Number.isNaN(value);

/** The API filter for a form, or why the form is not a valid filter (nothing is queried then). */
export function toReviewFilter(form: FilterForm): FilterCheck {
  const filter: ReviewFilter = { status: form.status };
  for (const [key, label] of [
    ["minConfidence", "Minimum confidence"],
    ["maxConfidence", "Maximum confidence"],
  ] as const) {
    const value = form[key];
    if (!isSet(value)) continue;
    if (value < 0 || value > 1) return { ok: false, message: `${label} must be between 0 and 1.` };
    filter[key] = value;
  }
  if (isSet(form.minConfidence) && isSet(form.maxConfidence) && form.minConfidence > form.maxConfidence) {
    return { ok: false, message: "Minimum confidence must not be above the maximum." };
  }
  if (form.regionId) filter.regionId = form.regionId;
  if (form.business) filter.businessId = form.business.id;
  const search = form.search.trim();
  if (search.length > 200) return { ok: false, message: "Search for at most 200 characters." };
  if (search) filter.search = search;
  if (form.suggestedOnly) filter.suggestedOnly = true;
  return { ok: true, filter };
}

export type ThresholdCheck = { ok: true; threshold: number } | { ok: false; message: string };

export function checkThreshold(value: NumberField): ThresholdCheck {
  if (!isSet(value) || value < MIN_THRESHOLD || value > MAX_THRESHOLD) {
    return { ok: false, message: `The threshold must be between ${MIN_THRESHOLD} and ${MAX_THRESHOLD}.` };
  }
  return { ok: true, threshold: value };
}

/**
 * Two decimals, rounded down, so a review shown as "0.90" really is at or above a 0.90 threshold
 * (0.899 shows as 0.89, not 0.90).
 */
export function formatConfidence(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return (Math.floor(value * 100 + 1e-9) / 100).toFixed(2);
}

export function formatThreshold(value: number): string {
  return value.toFixed(2);
}

export type ConfidenceLevel = "unscored" | "high" | "medium" | "low";

/** high: auto-eligible at the threshold; low: below 0.5, likely to be rejected. */
export function confidenceLevel(value: number | null | undefined, threshold: number): ConfidenceLevel {
  if (value === null || value === undefined) return "unscored";
  if (value >= threshold) return "high";
  return value < 0.5 ? "low" : "medium";
}

export const confidenceLevelLabels: Record<ConfidenceLevel, string> = {
  unscored: "not scored yet",
  high: "at or above the threshold",
  medium: "below the threshold",
  low: "low",
};

export function pluralReviews(count: number): string {
  return `${count} ${count === 1 ? "review" : "reviews"}`;
}

export const BODY_PREVIEW_LENGTH = 160;

export function isLongBody(body: string): boolean {
  return body.length > BODY_PREVIEW_LENGTH;
}

export function previewBody(body: string): string {
  return isLongBody(body) ? `${body.slice(0, BODY_PREVIEW_LENGTH).trimEnd()}…` : body;
}

export interface SignalView {
  kind: string;
  detail: string;
  weight: number | null;
}

/**
 * The classifier's signals as stored (JSON). The deterministic classifier writes
 * `[{ kind, detail, weight }]`; anything else (a provider's own shape) is shown as text.
 */
export function readSignals(signals: unknown): SignalView[] {
  if (!Array.isArray(signals)) {
    return signals === null || signals === undefined
      ? []
      : [{ kind: "raw", detail: JSON.stringify(signals), weight: null }];
  }
  return signals.map((signal: unknown) => {
    if (signal && typeof signal === "object") {
      const { kind, detail, weight } = signal as Record<string, unknown>;
      return {
        kind: typeof kind === "string" ? kind : "signal",
        detail: typeof detail === "string" ? detail : JSON.stringify(signal),
        weight: typeof weight === "number" ? weight : null,
      };
    }
    return { kind: "signal", detail: String(signal), weight: null };
  });
}

export interface RegionChoice {
  id: string;
  name: string;
}

/**
 * The regions the page has seen so far (the API has no region list yet), merged and sorted by
 * name; a region once seen stays, so filtering by one does not make the others disappear.
 */
export function mergeRegions(known: readonly RegionChoice[], reviews: readonly Review[]): RegionChoice[] {
  const byId = new Map(known.map((region) => [region.id, region]));
  for (const review of reviews) {
    const { id, name } = review.business.region;
    if (!byId.has(id)) byId.set(id, { id, name });
  }
  if (byId.size === known.length) return known as RegionChoice[];
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}
