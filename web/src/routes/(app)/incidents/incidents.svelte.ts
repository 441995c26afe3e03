// The Incidents page's state: the list (open first), the selected incident's record, and the
// operator's actions on it. The server decides everything; this shows what it answers.
import type { Client } from "@urql/core";
import { LiveQuery, readOnce } from "$lib/live-query.svelte.ts";
import type { LiveConnection } from "$lib/live.svelte.ts";
import { type Result, runMutation, unwrap } from "$lib/mutation.ts";
import type { Notice } from "$lib/notice.ts";
import {
  type BusinessChoice,
  BusinessSearchQuery,
  CommunicationPreviewQuery,
  type Incident,
  IncidentQuery,
  type IncidentSeverity,
  IncidentsQuery,
  type IncidentSummary,
  type IncidentTemplate,
  ResolveIncidentMutation,
  SendCommunicationMutation,
  UpdateIncidentMutation,
} from "./incident-operations.ts";

export interface RecordDraft {
  severity: IncidentSeverity;
  impact: string;
  rootCause: string;
  /** One follow-up per line. */
  followUps: string;
}

export interface Preview {
  recipients: number;
  subject: string;
  text: string;
}

export class IncidentDesk {
  #notice = $state<Notice | null>(null);
  busy = $state(false);
  businesses = $state<BusinessChoice[]>([]);
  preview = $state<Preview | null>(null);

  readonly #client: Client;
  /** The read itself: its `loading`, `error` and `start()` are the page's. */
  readonly query;
  /** The selected incident's record: a newer selection replaces the read. */
  readonly #record;
  #selectedId: string | null = null;
  #stopRecord: (() => void) | null = null;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.query = new LiveQuery({ client, live, query: IncidentsQuery, variables: () => ({ first: 100 }) });
    this.#record = new LiveQuery({
      client,
      live,
      query: IncidentQuery,
      variables: () => ({ id: this.#selectedId ?? "" }),
    });
  }

  /** The incident shown (the one selected before stays until the newly selected one is in). */
  get selected(): Incident | null {
    return this.#record.data?.incident ?? null;
  }

  /** The last action's outcome, or why the selected incident could not be read. */
  get notice(): Notice | null {
    if (this.#notice) return this.#notice;
    if (this.#record.error) return { kind: "error", text: this.#record.error };
    if (this.#selectedId && !this.#record.loading && this.#record.data && !this.#record.data.incident)
      return { kind: "error", text: "This incident no longer exists." };
    return null;
  }

  set notice(notice: Notice | null) {
    this.#notice = notice;
  }

  /** Stops reading the selected record (the page is left). */
  stop(): void {
    this.#stopRecord?.();
    this.#stopRecord = null;
  }

  get list(): IncidentSummary[] {
    return this.query.data?.incidents.edges.map((edge) => edge.node) ?? [];
  }

  select(id: string): void {
    this.preview = null;
    this.#selectedId = id;
    this.stop();
    this.#stopRecord = this.#record.start();
  }

  draftOf(incident: Incident): RecordDraft {
    return {
      severity: incident.severity,
      impact: incident.impact,
      rootCause: incident.rootCause,
      followUps: incident.followUps.join("\n"),
    };
  }

  async save(draft: RecordDraft): Promise<boolean> {
    const incident = this.selected;
    if (!incident) return false;
    const followUps = draft.followUps
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "");
    const variables = {
      id: incident.id,
      severity: draft.severity,
      impact: draft.impact,
      rootCause: draft.rootCause,
      followUps,
    };
    return this.#act(
      () => runMutation(this.#client, UpdateIncidentMutation, variables, (data) => data.updateIncident),
      "Saved the incident record.",
    );
  }

  async resolve(): Promise<boolean> {
    const incident = this.selected;
    if (!incident) return false;
    return this.#act(
      () => runMutation(this.#client, ResolveIncidentMutation, { id: incident.id }, (data) => data.resolveIncident),
      `Resolved “${incident.title}”.`,
    );
  }

  /** The businesses to address, on the operator's search (their choice, not a live list). */
  async searchBusinesses(search: string): Promise<void> {
    const outcome = await readOnce(this.#client, BusinessSearchQuery, { search: search.trim() || null });
    this.businesses = outcome.ok ? outcome.data.businesses.edges.map((edge) => edge.node) : [];
  }

  async previewMessage(template: IncidentTemplate, businessIds: string[]): Promise<void> {
    const incident = this.selected;
    this.preview = null;
    if (!incident) return;
    const read = await readOnce(this.#client, CommunicationPreviewQuery, {
      incidentId: incident.id,
      template,
      businessIds,
    });
    const outcome = read.ok ? unwrap(undefined, read.data.incidentCommunicationPreview) : read;
    if (!outcome.ok) {
      this.notice = { kind: "error", text: outcome.message };
      return;
    }
    this.preview = outcome.data;
  }

  async send(template: IncidentTemplate, businessIds: string[]): Promise<boolean> {
    const incident = this.selected;
    if (!incident) return false;
    this.busy = true;
    const outcome = await runMutation(
      this.#client,
      SendCommunicationMutation,
      { incidentId: incident.id, template, businessIds },
      (data) => data.sendIncidentCommunication,
    );
    this.busy = false;
    if (!outcome.ok) {
      this.notice = { kind: "error", text: outcome.message };
      return false;
    }
    const { sent, alreadySent } = outcome.data;
    this.notice = {
      kind: "success",
      text: `Queued ${sent} email(s)${alreadySent ? `; ${alreadySent} business(es) already had this message` : ""}.`,
    };
    this.preview = null;
    await this.#record.refetchNow();
    return true;
  }

  async #act(send: () => Promise<Result<unknown>>, success: string): Promise<boolean> {
    const incident = this.selected;
    if (!incident) return false;
    this.busy = true;
    this.notice = null;
    const outcome = await send();
    this.busy = false;
    if (!outcome.ok) {
      this.notice = { kind: "error", text: outcome.message };
      return false;
    }
    this.notice = { kind: "success", text: success };
    // These answers carry no row: the list (open first) and the record are read again.
    await Promise.all([this.query.refetchNow(), this.#record.refetchNow()]);
    return true;
  }
}

/** The summary as a Markdown file download. */
export function downloadMarkdown(incident: Incident): void {
  const blob = new Blob([incident.summaryMarkdown], { type: "text/markdown;charset=utf-8" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `incident-${incident.openedAt.slice(0, 10)}-${incident.title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, 40)}.md`;
  link.click();
  URL.revokeObjectURL(link.href);
}
