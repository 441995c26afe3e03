// The Reviews page's decisions on many reviews: the bulk approval at a threshold (count first, then
// confirm), a decision on the selection or every match done on the server (preview per reason,
// confirm, then batches with progress), and the selected reviews decided one by one with a report
// of those that could not be.
import type { Client } from "@urql/core";
import { readOnce } from "$lib/live-query.svelte.ts";
import { type Result, runMutation } from "$lib/mutation.ts";
import { describeReasonCounts, formatThreshold, pluralReviews } from "./review-format.ts";
import type { ReviewList } from "./review-list.svelte.ts";
import {
  BulkApprovableCountQuery,
  BulkApproveReviewsMutation,
  type BulkDecisionInput,
  type BulkPreview,
  BulkReviewDecisionPreviewQuery,
  DecideReviewsInBulkMutation,
  type RejectionReason,
  type Review,
} from "./review-operations.ts";
import type { ReviewSelection } from "./review-selection.svelte.ts";
import { type QueueNotice, reviewLabel } from "./reviews.svelte.ts";

/** A decision that could not be taken, for the report after acting on several reviews. */
export interface Failure {
  id: string;
  label: string;
  message: string;
}

export interface BatchReport {
  summary: string;
  failures: Failure[];
}

export type ApprovalState =
  | { phase: "idle" }
  | { phase: "counting"; threshold: number }
  | { phase: "confirm"; threshold: number; count: number }
  | { phase: "approving"; threshold: number; count: number };

/** What a server-side bulk decision does, in the words of its confirmation. */
export type BulkChoice =
  { kind: "approve" } | { kind: "reject"; reason: RejectionReason } | { kind: "reject-suggested" };

/** A decision on many reviews at once (the selection, every match, or the suggested ones): preview, confirm, progress. */
export type ManyState =
  | { phase: "idle" }
  | { phase: "previewing"; choice: BulkChoice }
  | { phase: "confirm"; choice: BulkChoice; input: BulkDecisionInput; preview: BulkPreview; scope: string }
  | { phase: "running"; choice: BulkChoice; done: number; total: number };

/** What the bulk decisions need from the page's single decisions. */
export interface SingleDecisions {
  notice: QueueNotice | null;
  announcement: string;
  readonly busy: Set<string>;
  readonly rowErrors: Map<string, string>;
  approveOne(review: Review): Promise<Result<unknown>>;
  rejectOne(review: Review, reason: RejectionReason, note: string): Promise<Result<unknown>>;
  afterDecision(): Promise<void>;
}

/** Reviews decided per call of decideReviewsInBulk: small enough to show progress on a large set. */
const BULK_BATCH = 100;

function capitalised(text: string): string {
  return `${text[0]?.toUpperCase() ?? ""}${text.slice(1)}`;
}

export class ReviewBulk {
  /** The bulk approval at the threshold. */
  approval = $state<ApprovalState>({ phase: "idle" });
  many = $state<ManyState>({ phase: "idle" });
  report = $state<BatchReport | null>(null);
  batchRunning = $state(false);

  readonly #client: Client;
  readonly #list: ReviewList;
  readonly #selection: ReviewSelection;
  readonly #decisions: SingleDecisions;

  constructor(client: Client, list: ReviewList, selection: ReviewSelection, decisions: SingleDecisions) {
    this.#client = client;
    this.#list = list;
    this.#selection = selection;
    this.#decisions = decisions;
  }

  /** Takes the threshold input (a confirmation at another threshold no longer stands). */
  setThreshold(): boolean {
    if (this.approval.phase === "confirm") this.approval = { phase: "idle" };
    return this.#list.setThreshold();
  }

  // ── Bulk approval at the threshold ──

  /** First step: how many reviews it would approve, shown for confirmation. */
  async prepareBulk(): Promise<void> {
    if (!this.setThreshold()) return;
    const threshold = this.#list.threshold;
    this.#decisions.notice = null;
    this.report = null;
    this.approval = { phase: "counting", threshold };
    const outcome = await readOnce(this.#client, BulkApprovableCountQuery, { threshold });
    if (this.approval.phase !== "counting" || this.approval.threshold !== threshold) return;
    if (!outcome.ok) {
      this.approval = { phase: "idle" };
      this.#decisions.notice = { kind: "error", text: outcome.message, scope: "bulk" };
      return;
    }
    this.approval = { phase: "confirm", threshold, count: outcome.data.bulkApprovableCount };
  }

  cancelBulk(): void {
    this.approval = { phase: "idle" };
  }

  async confirmBulk(): Promise<void> {
    if (this.approval.phase !== "confirm") return;
    const { threshold, count } = this.approval;
    this.approval = { phase: "approving", threshold, count };
    const outcome = await runMutation(
      this.#client,
      BulkApproveReviewsMutation,
      { threshold },
      (data) => data.bulkApproveReviews,
    );
    this.approval = { phase: "idle" };
    this.#decisions.notice = outcome.ok
      ? {
          kind: "success",
          text: `Approved ${pluralReviews(outcome.data)} with confidence ≥ ${formatThreshold(threshold)}`,
          scope: "bulk",
        }
      : { kind: "error", text: outcome.message, scope: "bulk" };
    await this.#decisions.afterDecision();
  }

  // ── Many reviews at once, on the server: preview per reason, confirm, then batches with progress ──

  async prepareMany(choice: BulkChoice): Promise<void> {
    const { input: target, scope } = this.#selection.target();
    const input: BulkDecisionInput =
      choice.kind === "approve"
        ? { ...target, action: "APPROVE" }
        : { ...target, action: "REJECT", reason: choice.kind === "reject" ? choice.reason : "SUGGESTED" };
    this.#decisions.notice = null;
    this.report = null;
    this.many = { phase: "previewing", choice };
    const outcome = await readOnce(this.#client, BulkReviewDecisionPreviewQuery, { input });
    if (this.many.phase !== "previewing") return;
    if (!outcome.ok) {
      this.many = { phase: "idle" };
      this.#decisions.notice = { kind: "error", text: outcome.message, scope: "queue" };
      return;
    }
    this.many = { phase: "confirm", choice, input, preview: outcome.data.bulkReviewDecisionPreview, scope };
  }

  cancelMany(): void {
    if (this.many.phase !== "running") this.many = { phase: "idle" };
  }

  async confirmMany(): Promise<void> {
    if (this.many.phase !== "confirm") return;
    const { choice, input, preview } = this.many;
    const byReason: Record<RejectionReason, number> = { SPAM: 0, PROFANITY: 0, OFF_TOPIC: 0, OTHER: 0 };
    let done = 0;
    let failure: string | null = null;
    this.many = { phase: "running", choice, done, total: preview.total };
    // Batch after batch until nothing matching is left (or a batch decides nothing: someone else did them).
    for (;;) {
      const outcome = await runMutation(
        this.#client,
        DecideReviewsInBulkMutation,
        { input, limit: BULK_BATCH },
        (data) => data.decideReviewsInBulk,
      );
      if (!outcome.ok) {
        failure = outcome.message;
        break;
      }
      const batch = outcome.data;
      done += batch.decided;
      for (const row of batch.byReason) byReason[row.reason] += row.count;
      this.many = { phase: "running", choice, done, total: Math.max(preview.total, done + batch.remaining) };
      // A list of ids is done in one call; a filter until nothing matching is left.
      if (input.ids || batch.remaining === 0 || batch.decided === 0) break;
    }
    this.many = { phase: "idle" };
    this.#selection.clear();
    const reasons = describeReasonCounts(
      (Object.keys(byReason) as RejectionReason[]).map((reason) => ({ reason, count: byReason[reason] })),
    );
    const verb = choice.kind === "approve" ? "Approved" : "Rejected";
    const text = `${verb} ${pluralReviews(done)}${reasons ? ` (${reasons})` : ""}`;
    const notice: QueueNotice = failure
      ? { kind: "error", text: `${text}; then: ${failure}`, scope: "queue" }
      : { kind: "success", text, scope: "queue" };
    this.#decisions.notice = notice;
    this.#decisions.announcement = notice.text;
    await this.#decisions.afterDecision();
  }

  // ── The selected reviews, one by one ──

  approveSelected(): Promise<void> {
    return this.#batch("approve", "approved", (review) => this.#decisions.approveOne(review));
  }

  rejectSelected(reason: RejectionReason, note: string): Promise<void> {
    return this.#batch("reject", "rejected", (review) => this.#decisions.rejectOne(review, reason, note));
  }

  async #batch(verb: string, past: string, decide: (review: Review) => Promise<Result<unknown>>): Promise<void> {
    const targets = this.#selection.selectedReviews;
    if (targets.length === 0 || this.batchRunning) return;
    const { busy, rowErrors } = this.#decisions;
    this.batchRunning = true;
    this.#decisions.notice = null;
    this.report = null;
    const failures: Failure[] = [];
    for (const review of targets) {
      busy.add(review.id);
      rowErrors.delete(review.id);
      const outcome = await decide(review);
      busy.delete(review.id);
      if (outcome.ok) this.#selection.selected.delete(review.id);
      else {
        rowErrors.set(review.id, outcome.message);
        failures.push({ id: review.id, label: reviewLabel(review), message: outcome.message });
      }
    }
    this.batchRunning = false;
    const succeeded = targets.length - failures.length;
    if (failures.length === 0) {
      this.#decisions.notice = {
        kind: "success",
        text: `${capitalised(past)} ${pluralReviews(succeeded)}`,
        scope: "queue",
      };
    } else {
      this.report = {
        summary:
          succeeded > 0
            ? `${capitalised(past)} ${succeeded} of ${pluralReviews(targets.length)}; could not ${verb} ${failures.length}:`
            : `Could not ${verb} ${pluralReviews(failures.length)}:`,
        failures,
      };
    }
    await this.#decisions.afterDecision();
  }
}
