// The channels panel's state (ADMIN only): the channels, saving one (create, edit, disable), and
// the last test result of each. Secrets go to the server and never come back.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import {
  type ChannelInput,
  type NotificationChannel,
  NotificationChannelsQuery,
  TestNotificationChannelMutation,
  UpsertNotificationChannelMutation,
} from "./channel-operations.ts";

/**
 * A channel's settings as they are stored, to save it unchanged but for what the caller changes:
 * the URL of a webhook or PagerDuty channel and an email channel's recipients are not secret and
 * are resent; a Slack URL and every secret are left out, which keeps the stored ones.
 */
export function storedSettings(channel: NotificationChannel): ChannelInput {
  const { id, name, kind, severities, enabled } = channel;
  return {
    id,
    name,
    kind,
    severities,
    enabled,
    ...(kind === "WEBHOOK" || kind === "PAGERDUTY" ? { url: channel.target } : {}),
    ...(kind === "EMAIL" ? { recipients: channel.target.split(", ").filter(Boolean) } : {}),
  };
}

export type TestOutcome = { ok: boolean; text: string };

export class ChannelList {
  channels = $state<NotificationChannel[]>([]);
  error = $state<string | null>(null);
  loading = $state(true);
  readonly testing = new SvelteSet<string>();
  readonly outcomes = new SvelteMap<string, TestOutcome>();

  readonly #client: Client;

  constructor(client: Client) {
    this.#client = client;
  }

  async load(): Promise<void> {
    const result = await this.#client
      .query(NotificationChannelsQuery, {}, { requestPolicy: "network-only" })
      .toPromise();
    this.loading = false;
    this.error = result.error ? errorMessage(result.error) : null;
    this.channels = result.data?.notificationChannels ?? [];
  }

  /** Creates or updates a channel; the error to show, or null when saved. */
  async save(input: ChannelInput): Promise<string | null> {
    const result = await this.#client.mutation(UpsertNotificationChannelMutation, input).toPromise();
    const payload = result.data?.upsertNotificationChannel;
    if (result.error || !payload) return result.error ? errorMessage(result.error) : "No answer.";
    if (payload.__typename !== "MutationUpsertNotificationChannelSuccess")
      return "message" in payload ? payload.message : "Refused.";
    const saved = payload.data;
    const known = this.channels.some((channel) => channel.id === saved.id);
    this.channels = known
      ? this.channels.map((channel) => (channel.id === saved.id ? saved : channel))
      : [...this.channels, saved];
    return null;
  }

  /** Turns a channel off (or on again) without touching its settings or secret. */
  setEnabled(channel: NotificationChannel, enabled: boolean): Promise<string | null> {
    return this.save({ ...storedSettings(channel), enabled });
  }

  async test(channel: NotificationChannel): Promise<void> {
    this.testing.add(channel.id);
    this.outcomes.delete(channel.id);
    const result = await this.#client.mutation(TestNotificationChannelMutation, { id: channel.id }).toPromise();
    this.testing.delete(channel.id);
    const payload = result.data?.testNotificationChannel;
    if (result.error || !payload) {
      this.outcomes.set(channel.id, { ok: false, text: result.error ? errorMessage(result.error) : "No answer." });
    } else if (payload.__typename === "MutationTestNotificationChannelSuccess") {
      const { ok, responseCode, message } = payload.data;
      const code = responseCode === null ? "" : ` (${responseCode})`;
      this.outcomes.set(channel.id, { ok, text: ok ? `Delivered${code}` : `Failed${code}: ${message}` });
    } else {
      this.outcomes.set(channel.id, { ok: false, text: "message" in payload ? payload.message : "Refused." });
    }
  }
}
