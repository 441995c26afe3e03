// The channels panel's state (ADMIN only): the channels, saving one (create, edit, disable), and
// the last test result of each. Secrets go to the server and never come back. A saved channel comes
// back in the mutation's answer and the cache updates its row; a new one joins the list, which is
// read again then.
import type { Client } from "@urql/core";
import { LiveQuery } from "$lib/live-query.svelte.ts";
import type { LiveConnection } from "$lib/live.svelte.ts";
import { runMutation } from "$lib/mutation.ts";
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
  readonly testing = new SvelteSet<string>();
  readonly outcomes = new SvelteMap<string, TestOutcome>();

  readonly #client: Client;
  /** The read itself: its `loading`, `error` and `start()` are the panel's. */
  readonly query;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.query = new LiveQuery({ client, live, query: NotificationChannelsQuery, variables: () => ({}) });
  }

  get channels(): NotificationChannel[] {
    return this.query.data?.notificationChannels ?? [];
  }

  /** Creates or updates a channel; the error to show, or null when saved. */
  async save(input: ChannelInput): Promise<string | null> {
    const outcome = await runMutation(
      this.#client,
      UpsertNotificationChannelMutation,
      input,
      (data) => data.upsertNotificationChannel,
    );
    if (!outcome.ok) return outcome.message;
    const saved = outcome.data;
    if (!this.channels.some((channel) => channel.id === saved.id)) await this.query.refetchNow();
    return null;
  }

  /** Turns a channel off (or on again) without touching its settings or secret. */
  setEnabled(channel: NotificationChannel, enabled: boolean): Promise<string | null> {
    return this.save({ ...storedSettings(channel), enabled });
  }

  async test(channel: NotificationChannel): Promise<void> {
    this.testing.add(channel.id);
    this.outcomes.delete(channel.id);
    const outcome = await runMutation(
      this.#client,
      TestNotificationChannelMutation,
      { id: channel.id },
      (data) => data.testNotificationChannel,
    );
    this.testing.delete(channel.id);
    if (!outcome.ok) {
      this.outcomes.set(channel.id, { ok: false, text: outcome.message });
      return;
    }
    const { ok, responseCode, message } = outcome.data;
    const code = responseCode === null ? "" : ` (${responseCode})`;
    this.outcomes.set(channel.id, { ok, text: ok ? `Delivered${code}` : `Failed${code}: ${message}` });
  }
}
