// The Alerts page's state: open alerts (red first) and the incident log (recently resolved), kept
// live by `alertChanged`; the selected alert's timeline and deliveries; the operator's actions.
// The server decides everything (lifecycle rules, silence bounds); this shows what it answers.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import { followLive, type LiveConnection, type LiveFeed, type LiveStatus } from "$lib/live.svelte.ts";
import type { Notice } from "$lib/notice.ts";
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import {
  AcknowledgeAlertMutation,
  type Alert,
  AlertChangedSubscription,
  type AlertDetail,
  AlertDetailQuery,
  AlertsQuery,
  type IncidentSeverity,
  OpenIncidentMutation,
  ResolveAlertMutation,
  SetAlertIncidentSeverityMutation,
  SilenceAlertMutation,
} from "./alert-operations.ts";

const NO_ANSWER = "The API returned no answer. Try again.";
const REFRESH_DEBOUNCE_MS = 150;

type ActionPayload = { __typename: string; message?: string } | null | undefined;

export class AlertBoard {
  open = $state<Alert[]>([]);
  resolved = $state<Alert[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  liveError = $state<string | null>(null);
  notice = $state<Notice | null>(null);
  selectedId = $state<string | null>(null);
  detail = $state<AlertDetail | null>(null);
  detailError = $state<string | null>(null);
  readonly busy = new SvelteSet<string>();
  readonly rowErrors = new SvelteMap<string, string>();

  readonly #client: Client;
  readonly #live: LiveConnection;
  #request = 0;
  #detailRequest = 0;
  #feed: LiveFeed | null = null;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.#live = live;
  }

  get liveStatus(): LiveStatus {
    return this.#live.statusFor(this.liveError);
  }

  start(): () => void {
    void this.load();
    const feed = followLive({
      client: this.#client,
      live: this.#live,
      subscription: AlertChangedSubscription,
      variables: {},
      reload: () => this.load(),
      onFeed: (error) => (this.liveError = error),
      debounceMs: REFRESH_DEBOUNCE_MS,
    });
    this.#feed = feed;
    return () => {
      feed.stop();
    };
  }

  async load(): Promise<void> {
    const request = ++this.#request;
    const [open, resolved] = await Promise.all([
      this.#client.query(AlertsQuery, { first: 100 }, { requestPolicy: "network-only" }).toPromise(),
      this.#client
        .query(AlertsQuery, { filter: { status: ["RESOLVED"] }, first: 25 }, { requestPolicy: "network-only" })
        .toPromise(),
    ]);
    if (request !== this.#request) return;
    this.loading = false;
    const failed = open.error ?? resolved.error;
    if (failed) {
      this.error = errorMessage(failed);
      return;
    }
    this.error = null;
    this.open = open.data?.alerts.edges.map((edge) => edge.node) ?? [];
    // The incident log: most recently resolved first.
    this.resolved = (resolved.data?.alerts.edges.map((edge) => edge.node) ?? []).toSorted((a, b) =>
      (b.resolvedAt ?? "").localeCompare(a.resolvedAt ?? ""),
    );
    if (this.selectedId) await this.#loadDetail(this.selectedId);
  }

  async select(id: string | null): Promise<void> {
    this.selectedId = id;
    this.detail = null;
    this.detailError = null;
    if (id) await this.#loadDetail(id);
  }

  acknowledge(alert: Alert): Promise<boolean> {
    return this.#act(
      alert,
      async () => await this.#client.mutation(AcknowledgeAlertMutation, { id: alert.id }).toPromise(),
      (data) => data?.acknowledgeAlert,
      `Acknowledged “${alert.title}”.`,
    );
  }

  silence(alert: Alert, minutes: number, reason: string): Promise<boolean> {
    const until = new Date(Date.now() + minutes * 60_000).toISOString();
    return this.#act(
      alert,
      async () =>
        await this.#client
          .mutation(SilenceAlertMutation, { id: alert.id, until, reason: reason.trim() || null })
          .toPromise(),
      (data) => data?.silenceAlert,
      `Silenced “${alert.title}”: no notifications until ${new Date(until).toLocaleString()}.`,
    );
  }

  resolve(alert: Alert, note: string): Promise<boolean> {
    return this.#act(
      alert,
      async () => await this.#client.mutation(ResolveAlertMutation, { id: alert.id, note: note.trim() }).toPromise(),
      (data) => data?.resolveAlert,
      `Resolved “${alert.title}”.`,
    );
  }

  /** Override the alert's P0–P3 level (null: back to the rule's). */
  setIncidentSeverity(alert: Alert, severity: IncidentSeverity | null): Promise<boolean> {
    return this.#act(
      alert,
      async () => await this.#client.mutation(SetAlertIncidentSeverityMutation, { id: alert.id, severity }).toPromise(),
      (data) => data?.setAlertIncidentSeverity,
      severity ? `“${alert.title}” is now ${severity}.` : `“${alert.title}” is back to its rule's level.`,
    );
  }

  /** Open red alerts of the same rule as this one: one cause (e.g. the backlog of many regions). */
  sameCause(alert: Alert): Alert[] {
    return this.open.filter(
      (other) => other.ruleKey === alert.ruleKey && (other.id === alert.id || other.severity === "RED"),
    );
  }

  /** Opens an incident from this alert and its open red siblings of the same rule; returns its id. */
  async openIncident(alert: Alert): Promise<string | null> {
    const alertIds = this.sameCause(alert).map((other) => other.id);
    if (!alertIds.includes(alert.id)) alertIds.push(alert.id);
    let incidentId: string | null = null;
    const opened = await this.#act(
      alert,
      async () => {
        const result = await this.#client.mutation(OpenIncidentMutation, { alertIds }).toPromise();
        const payload = result.data?.openIncident;
        if (payload?.__typename === "MutationOpenIncidentSuccess") incidentId = payload.data.id;
        return result;
      },
      (data) => data?.openIncident,
      `Opened an incident for “${alert.title}”${alertIds.length > 1 ? ` and ${alertIds.length - 1} related alert(s)` : ""}.`,
    );
    return opened ? incidentId : null;
  }

  async #act<Data>(
    alert: Alert,
    send: () => Promise<{ data?: Data; error?: Parameters<typeof errorMessage>[0] }>,
    payloadOf: (data: Data | undefined) => ActionPayload,
    success: string,
  ): Promise<boolean> {
    this.busy.add(alert.id);
    this.rowErrors.delete(alert.id);
    this.notice = null;
    const result = await send();
    this.busy.delete(alert.id);
    const payload = payloadOf(result.data);
    const failure = result.error ? errorMessage(result.error) : !payload ? NO_ANSWER : null;
    if (failure || !payload || !payload.__typename.endsWith("Success")) {
      this.rowErrors.set(alert.id, failure ?? payload?.message ?? NO_ANSWER);
      return false;
    }
    this.notice = { kind: "success", text: success };
    this.#feed?.refresh(0);
    return true;
  }

  async #loadDetail(id: string): Promise<void> {
    const request = ++this.#detailRequest;
    const result = await this.#client.query(AlertDetailQuery, { id }, { requestPolicy: "network-only" }).toPromise();
    if (request !== this.#detailRequest || this.selectedId !== id) return;
    if (result.error) {
      this.detailError = errorMessage(result.error);
      return;
    }
    this.detailError = result.data?.alert ? null : "This alert no longer exists.";
    this.detail = result.data?.alert ?? null;
  }
}
