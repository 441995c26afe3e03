// The Reviews page's state, in three parts and the decisions on one review: the list (filters,
// Relay pages, live counts: review-list), the selection (review-selection) and the decisions on
// many (review-bulk). This class holds what they share (the notice, rows busy or refused), one
// review's decisions and the keyboard triage. Components only render this and call its methods.
import type { Client } from "@urql/core";
import type { LiveConnection } from "$lib/live.svelte.ts";
import { type Result, runMutation } from "$lib/mutation.ts";
import type { Notice } from "$lib/notice.ts";
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import { ReviewBulk, type SingleDecisions } from "./review-bulk.svelte.ts";
import { reasonLabels } from "./review-format.ts";
import { ReviewList } from "./review-list.svelte.ts";
import {
  ApproveReviewMutation,
  type RejectionReason,
  RejectReviewMutation,
  ReopenReviewMutation,
  type Review,
} from "./review-operations.ts";
import { ReviewSelection } from "./review-selection.svelte.ts";
import { triageCommand } from "./triage-keys.ts";

/** The outcome of the last action, shown next to where it was taken (the bulk panel or the queue). */
export interface QueueNotice extends Notice {
  scope: "bulk" | "queue";
}

export function reviewLabel(review: Review): string {
  const body = review.body.length > 40 ? `${review.body.slice(0, 40).trimEnd()}…` : review.body;
  return `“${body}” (${review.business.name})`;
}

export class ReviewQueue implements SingleDecisions {
  readonly list: ReviewList;
  readonly selection: ReviewSelection;
  readonly bulk: ReviewBulk;

  /** Reviews with a decision on its way. */
  readonly busy = new SvelteSet<string>();
  /** Why the last decision on a review failed, shown in its row. */
  readonly rowErrors = new SvelteMap<string, string>();
  notice = $state<QueueNotice | null>(null);

  // Keyboard triage.
  /** The review the keyboard acts on. */
  currentId = $state<string | null>(null);
  choosingReason = $state(false);
  showHelp = $state(false);
  /** What the keyboard just did, read out by the aria-live region. */
  announcement = $state("");

  readonly #client: Client;

  constructor(client: Client, live: LiveConnection, pageSize = 50) {
    this.#client = client;
    this.list = new ReviewList(client, live, pageSize);
    this.selection = new ReviewSelection(this.list);
    this.bulk = new ReviewBulk(client, this.list, this.selection, this);
    this.list.onApplied = () => {
      this.selection.clear();
      this.rowErrors.clear();
    };
    this.list.onReplaced = () => {
      this.selection.forgetGone();
      const shown = new Set(this.list.reviews.map((review) => review.id));
      for (const id of this.rowErrors.keys()) if (!shown.has(id)) this.rowErrors.delete(id);
    };
  }

  /** Starts the reads and the live counts; returns the function that stops them. */
  start(): () => void {
    return this.list.start();
  }

  // ── One review ──

  approve(review: Review): Promise<boolean> {
    return this.#single(review, () => this.approveOne(review), "Approved");
  }

  reject(review: Review, reason: RejectionReason, note: string): Promise<boolean> {
    return this.#single(review, () => this.rejectOne(review, reason, note), `Rejected (${reasonLabels[reason]})`);
  }

  reopen(review: Review, reason: string): Promise<boolean> {
    return this.#single(
      review,
      () => runMutation(this.#client, ReopenReviewMutation, { id: review.id, reason }, (data) => data.reopenReview),
      "Reopened",
    );
  }

  approveOne(review: Review): Promise<Result<unknown>> {
    const variables = { id: review.id, expectedVersion: review.version };
    return runMutation(this.#client, ApproveReviewMutation, variables, (data) => data.approveReview);
  }

  rejectOne(review: Review, reason: RejectionReason, note: string): Promise<Result<unknown>> {
    const variables = { id: review.id, reason, note: note.trim() || null, expectedVersion: review.version };
    return runMutation(this.#client, RejectReviewMutation, variables, (data) => data.rejectReview);
  }

  /** The list and the counts are read again after any decision (the subscription may be down). */
  afterDecision(): Promise<void> {
    return this.list.refresh();
  }

  async #single(review: Review, decide: () => Promise<Result<unknown>>, done: string): Promise<boolean> {
    this.busy.add(review.id);
    this.notice = null;
    this.bulk.report = null;
    this.rowErrors.delete(review.id);
    const outcome = await decide();
    this.busy.delete(review.id);
    if (outcome.ok) {
      this.selection.selected.delete(review.id);
      this.notice = { kind: "success", text: `${done}: ${reviewLabel(review)}`, scope: "queue" };
    } else this.notice = { kind: "error", text: outcome.message, scope: "queue" };
    await this.afterDecision();
    return outcome.ok;
  }

  // ── Keyboard triage ──

  get current(): Review | null {
    return this.list.reviews.find((review) => review.id === this.currentId) ?? null;
  }

  /** Makes a review the keyboard's current one and says which it is. */
  focusReview(id: string | null): void {
    this.currentId = id;
    const review = this.current;
    if (!review) return;
    const reviews = this.list.reviews;
    const position = reviews.indexOf(review) + 1;
    const suggestion = review.suggestedReason ? `, suggested ${reasonLabels[review.suggestedReason]}` : "";
    this.announcement = `Review ${position} of ${reviews.length}: ${reviewLabel(review)}${suggestion}`;
  }

  /** Runs the command for a key; true when the key was the page's (the caller prevents its default). */
  async handleKey(key: string): Promise<boolean> {
    const command = triageCommand(key, this.choosingReason);
    if (!command) return false;
    const reviews = this.list.reviews;
    if (command.kind === "help") {
      this.showHelp = !this.showHelp;
      return true;
    }
    if (command.kind === "cancel") {
      this.choosingReason = false;
      this.showHelp = false;
      return true;
    }
    if (command.kind === "move") {
      const index = reviews.findIndex((review) => review.id === this.currentId);
      const next = index < 0 ? 0 : Math.min(reviews.length - 1, Math.max(0, index + command.by));
      this.focusReview(reviews[next]?.id ?? null);
      return true;
    }
    const review = this.current ?? reviews[0] ?? null;
    if (!review) return true;
    const { selected } = this.selection;
    if (command.kind === "select") {
      if (review.status === "PENDING") this.selection.toggle(review.id, !selected.has(review.id));
      this.announcement = `${selected.has(review.id) ? "Selected" : "Unselected"}: ${reviewLabel(review)}`;
      return true;
    }
    if (review.status !== "PENDING") {
      this.announcement = "This review is already decided; reopen it from its row.";
      return true;
    }
    if (command.kind === "choose-reason") {
      this.choosingReason = true;
      this.announcement = "Reject: press 1 Spam, 2 Profanity, 3 Off topic, 4 Other, or Escape";
      return true;
    }
    this.choosingReason = false;
    const index = reviews.indexOf(review);
    const ok = command.kind === "approve" ? await this.approve(review) : await this.reject(review, command.reason, "");
    if (ok) {
      // Focus moves on to the next pending review (the decided one left the pending list).
      const after = this.list.reviews
        .slice(index)
        .find((candidate) => candidate.status === "PENDING" && candidate.id !== review.id);
      this.focusReview(after?.id ?? this.selection.selectable[0]?.id ?? null);
      if (this.notice) this.announcement = `${this.notice.text}. ${this.announcement}`;
    } else if (this.notice) this.announcement = this.notice.text;
    return true;
  }
}
