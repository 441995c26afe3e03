// The Incidents page's state: the list (open first), the selected incident's record, and the
// operator's actions on it. The server decides everything; this shows what it answers.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
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

type Payload = { __typename: string; message?: string } | null | undefined;

const NO_ANSWER = "The API returned no answer. Try again.";

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
  list = $state<IncidentSummary[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  notice = $state<Notice | null>(null);
  selected = $state<Incident | null>(null);
  busy = $state(false);
  businesses = $state<BusinessChoice[]>([]);
  preview = $state<Preview | null>(null);

  readonly #client: Client;
  #request = 0;

  constructor(client: Client) {
    this.#client = client;
  }

  async load(): Promise<void> {
    const request = ++this.#request;
    const result = await this.#client
      .query(IncidentsQuery, { first: 100 }, { requestPolicy: "network-only" })
      .toPromise();
    if (request !== this.#request) return;
    this.loading = false;
    this.error = result.error ? errorMessage(result.error) : null;
    this.list = result.data?.incidents.edges.map((edge) => edge.node) ?? [];
  }

  async select(id: string): Promise<void> {
    this.preview = null;
    const result = await this.#client.query(IncidentQuery, { id }, { requestPolicy: "network-only" }).toPromise();
    if (result.error) {
      this.notice = { kind: "error", text: errorMessage(result.error) };
      return;
    }
    this.selected = result.data?.incident ?? null;
    if (!this.selected) this.notice = { kind: "error", text: "This incident no longer exists." };
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
    return this.#act(
      async () =>
        (
          await this.#client
            .mutation(UpdateIncidentMutation, {
              id: incident.id,
              severity: draft.severity,
              impact: draft.impact,
              rootCause: draft.rootCause,
              followUps,
            })
            .toPromise()
        ).data?.updateIncident,
      "Saved the incident record.",
    );
  }

  async resolve(): Promise<boolean> {
    const incident = this.selected;
    if (!incident) return false;
    return this.#act(
      async () =>
        (await this.#client.mutation(ResolveIncidentMutation, { id: incident.id }).toPromise()).data?.resolveIncident,
      `Resolved “${incident.title}”.`,
    );
  }

  async searchBusinesses(search: string): Promise<void> {
    const result = await this.#client
      .query(BusinessSearchQuery, { search: search.trim() || null }, { requestPolicy: "network-only" })
      .toPromise();
    this.businesses = result.data?.businesses.edges.map((edge) => edge.node) ?? [];
  }

  async previewMessage(template: IncidentTemplate, businessIds: string[]): Promise<void> {
    const incident = this.selected;
    this.preview = null;
    if (!incident) return;
    const result = await this.#client
      .query(
        CommunicationPreviewQuery,
        { incidentId: incident.id, template, businessIds },
        { requestPolicy: "network-only" },
      )
      .toPromise();
    const payload = result.data?.incidentCommunicationPreview;
    if (result.error || !payload || payload.__typename !== "QueryIncidentCommunicationPreviewSuccess") {
      this.notice = {
        kind: "error",
        text: result.error
          ? errorMessage(result.error)
          : ((payload && "message" in payload ? payload.message : null) ?? NO_ANSWER),
      };
      return;
    }
    this.preview = payload.data;
  }

  async send(template: IncidentTemplate, businessIds: string[]): Promise<boolean> {
    const incident = this.selected;
    if (!incident) return false;
    this.busy = true;
    const result = await this.#client
      .mutation(SendCommunicationMutation, { incidentId: incident.id, template, businessIds })
      .toPromise();
    this.busy = false;
    const payload = result.data?.sendIncidentCommunication;
    if (result.error || !payload || payload.__typename !== "MutationSendIncidentCommunicationSuccess") {
      this.notice = {
        kind: "error",
        text: result.error
          ? errorMessage(result.error)
          : ((payload && "message" in payload ? payload.message : null) ?? NO_ANSWER),
      };
      return false;
    }
    const { sent, alreadySent } = payload.data;
    this.notice = {
      kind: "success",
      text: `Queued ${sent} email(s)${alreadySent ? `; ${alreadySent} business(es) already had this message` : ""}.`,
    };
    this.preview = null;
    await this.select(incident.id);
    return true;
  }

  async #act(send: () => Promise<Payload>, success: string): Promise<boolean> {
    const incident = this.selected;
    if (!incident) return false;
    this.busy = true;
    this.notice = null;
    let payload: Payload;
    try {
      payload = await send();
    } finally {
      this.busy = false;
    }
    if (!payload || !payload.__typename.endsWith("Success")) {
      this.notice = { kind: "error", text: payload?.message ?? NO_ANSWER };
      return false;
    }
    this.notice = { kind: "success", text: success };
    await Promise.all([this.load(), this.select(incident.id)]);
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
