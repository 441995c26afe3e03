// The channels panel's state (ADMIN only): the channels and the last test result of each.
import type { Client } from "@urql/core";
import { errorMessage } from "$lib/errors.ts";
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import {
  type NotificationChannel,
  NotificationChannelsQuery,
  TestNotificationChannelMutation,
} from "./channel-operations.ts";

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
