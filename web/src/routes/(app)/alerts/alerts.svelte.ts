// The Alerts page's state: open alerts (red first) and the incident log (recently resolved), kept
// live by `alertChanged`; the selected alert's timeline and deliveries; the operator's actions.
// The server decides everything (lifecycle rules, silence bounds); this shows what it answers. An
// action's answer and each event carry the alert, which the cache updates in place; the lists are
// read again only when an alert may have joined or left one, or changed its place (severity).
import type { Client } from "@urql/core";
import { formatDateTime } from "$lib/format.ts";
import { LiveQuery } from "$lib/live-query.svelte.ts";
import type { LiveConnection, LiveStatus } from "$lib/live.svelte.ts";
import { runMutation } from "$lib/mutation.ts";
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

const REFRESH_DEBOUNCE_MS = 150;

export class AlertBoard {
  notice = $state<Notice | null>(null);
  selectedId = $state<string | null>(null);
  readonly busy = new SvelteSet<string>();
  readonly rowErrors = new SvelteMap<string, string>();

  readonly #client: Client;
  readonly #open;
  readonly #resolved;
  /** The selected alert's timeline and deliveries; a newer selection replaces the read. */
  readonly #detail;
  #stopDetail: (() => void) | null = null;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.#open = new LiveQuery({
      client,
      live,
      query: AlertsQuery,
      variables: () => ({ first: 100 }),
      subscription: AlertChangedSubscription,
      onEvent: ({ alertChanged: changed }) => {
        if (changed.id === this.selectedId) this.#detail.refetch(0);
        const shown = this.open.find((alert) => alert.id === changed.id);
        const inPlace = shown !== undefined && shown.severity === changed.severity && changed.status !== "RESOLVED";
        if (!inPlace) this.#resolved.refetch();
        return !inPlace;
      },
      debounceMs: REFRESH_DEBOUNCE_MS,
    });
    this.#resolved = new LiveQuery({
      client,
      live,
      query: AlertsQuery,
      variables: () => ({ filter: { status: ["RESOLVED" as const] }, first: 25 }),
      debounceMs: REFRESH_DEBOUNCE_MS,
    });
    this.#detail = new LiveQuery({
      client,
      live,
      query: AlertDetailQuery,
      variables: () => ({ id: this.selectedId ?? "" }),
    });
  }

  /** The selected alert, once its (fresh) answer is in. */
  get detail(): AlertDetail | null {
    if (this.#detail.loading || this.#detail.error) return null;
    return this.#detail.data?.alert ?? null;
  }

  get detailError(): string | null {
    if (!this.selectedId || this.#detail.loading) return null;
    if (this.#detail.error) return this.#detail.error;
    return this.#detail.data && !this.#detail.data.alert ? "This alert no longer exists." : null;
  }

  /** Open alerts (the server orders them, red first); one resolved a moment ago leaves at once. */
  get open(): Alert[] {
    const edges = this.#open.data?.alerts.edges ?? [];
    return edges.map((edge) => edge.node).filter((alert) => alert.status !== "RESOLVED");
  }

  /** The incident log: most recently resolved first. */
  get resolved(): Alert[] {
    const edges = this.#resolved.data?.alerts.edges ?? [];
    return edges.map((edge) => edge.node).toSorted((a, b) => (b.resolvedAt ?? "").localeCompare(a.resolvedAt ?? ""));
  }

  get loading(): boolean {
    return this.#open.loading || this.#resolved.loading;
  }

  get error(): string | null {
    return this.#open.error ?? this.#resolved.error;
  }

  get liveError(): string | null {
    return this.#open.liveError;
  }

  get liveStatus(): LiveStatus {
    return this.#open.liveStatus;
  }

  start(): () => void {
    const stopOpen = this.#open.start();
    const stopResolved = this.#resolved.start();
    return () => {
      stopOpen();
      stopResolved();
      this.#stopDetail?.();
      this.#stopDetail = null;
    };
  }

  select(id: string | null): void {
    this.selectedId = id;
    this.#stopDetail?.();
    this.#stopDetail = id ? this.#detail.start() : null;
  }

  acknowledge(alert: Alert): Promise<boolean> {
    return this.#act(
      alert,
      runMutation(this.#client, AcknowledgeAlertMutation, { id: alert.id }, (data) => data.acknowledgeAlert),
      `Acknowledged “${alert.title}”.`,
    );
  }

  silence(alert: Alert, minutes: number, reason: string): Promise<boolean> {
    const until = new Date(Date.now() + minutes * 60_000).toISOString();
    return this.#act(
      alert,
      runMutation(
        this.#client,
        SilenceAlertMutation,
        { id: alert.id, until, reason: reason.trim() || null },
        (data) => data.silenceAlert,
      ),
      `Silenced “${alert.title}”: no notifications until ${formatDateTime(until)}.`,
    );
  }

  resolve(alert: Alert, note: string): Promise<boolean> {
    return this.#act(
      alert,
      runMutation(this.#client, ResolveAlertMutation, { id: alert.id, note: note.trim() }, (data) => data.resolveAlert),
      `Resolved “${alert.title}”.`,
      // A resolved alert moves from the open alerts to the incident log.
      { membershipChanged: true },
    );
  }

  /** Override the alert's P0–P3 level (null: back to the rule's). */
  setIncidentSeverity(alert: Alert, severity: IncidentSeverity | null): Promise<boolean> {
    return this.#act(
      alert,
      runMutation(
        this.#client,
        SetAlertIncidentSeverityMutation,
        { id: alert.id, severity },
        (data) => data.setAlertIncidentSeverity,
      ),
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
    const opening = runMutation(this.#client, OpenIncidentMutation, { alertIds }, (data) => data.openIncident);
    const opened = await this.#act(
      alert,
      opening,
      `Opened an incident for “${alert.title}”${alertIds.length > 1 ? ` and ${alertIds.length - 1} related alert(s)` : ""}.`,
    );
    const outcome = await opening;
    return opened && outcome.ok ? outcome.data.id : null;
  }

  async #act(
    alert: Alert,
    action: Promise<{ ok: true } | { ok: false; message: string }>,
    success: string,
    { membershipChanged = false } = {},
  ): Promise<boolean> {
    this.busy.add(alert.id);
    this.rowErrors.delete(alert.id);
    this.notice = null;
    const outcome = await action;
    this.busy.delete(alert.id);
    if (!outcome.ok) {
      this.rowErrors.set(alert.id, outcome.message);
      return false;
    }
    this.notice = { kind: "success", text: success };
    if (membershipChanged) {
      this.#open.refetch(0);
      this.#resolved.refetch(0);
    }
    if (this.selectedId) this.#detail.refetch(0);
    return true;
  }
}
