// The Reviews page's selection: the pending reviews ticked in the list, or every review matching
// the filter on every page ("select all N matching"), and what a decision on many acts on.
import { SvelteSet } from "svelte/reactivity";
import type { ReviewList } from "./review-list.svelte.ts";
import type { BulkDecisionInput, Review } from "./review-operations.ts";

export class ReviewSelection {
  readonly selected = new SvelteSet<string>();
  /** Every review matching the filter is selected, not only the rows loaded. */
  allMatching = $state(false);

  readonly #list: ReviewList;

  constructor(list: ReviewList) {
    this.#list = list;
  }

  /** Pending reviews shown that can be selected. */
  get selectable(): Review[] {
    return this.#list.reviews.filter((review) => review.status === "PENDING");
  }

  get selectedReviews(): Review[] {
    return this.#list.reviews.filter((review) => this.selected.has(review.id) && review.status === "PENDING");
  }

  /** How many reviews the selection holds: every match when "all N matching" is on. */
  get selectionCount(): number {
    return this.allMatching ? (this.#list.total ?? 0) : this.selectedReviews.length;
  }

  get allSelected(): boolean {
    const selectable = this.selectable;
    return selectable.length > 0 && selectable.every((review) => this.selected.has(review.id));
  }

  toggle(id: string, on: boolean): void {
    this.allMatching = false;
    if (on) this.selected.add(id);
    else this.selected.delete(id);
  }

  toggleAll(on: boolean): void {
    this.allMatching = false;
    if (!on) this.selected.clear();
    else for (const review of this.selectable) this.selected.add(review.id);
  }

  /** Selects every pending review matching the filter, on every page. */
  selectAllMatching(): void {
    for (const review of this.selectable) this.selected.add(review.id);
    this.allMatching = true;
  }

  clear(): void {
    this.selected.clear();
    this.allMatching = false;
  }

  /** Selections of reviews no longer shown as pending (decided, or filtered out) go away. */
  forgetGone(): void {
    const shown = new Map(this.#list.reviews.map((review) => [review.id, review]));
    for (const id of this.selected) if (shown.get(id)?.status !== "PENDING") this.selected.delete(id);
  }

  /** What a bulk decision acts on: every match, the selected rows, or (with no selection) the filter. */
  target(): { input: Pick<BulkDecisionInput, "ids" | "filter">; scope: string } {
    const matching = {
      input: { filter: { ...this.#list.filter, status: "PENDING" as const } },
      scope: "matching the filter",
    };
    if (this.allMatching) return matching;
    const ids = this.selectedReviews.map((review) => review.id);
    return ids.length > 0 ? { input: { ids }, scope: "selected" } : matching;
  }
}
