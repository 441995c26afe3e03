// The channels panel's state (ADMIN only): the channels and the last test result of each.
import type { Client } from "@urql/core";
import { LiveQuery } from "$lib/live-query.svelte.ts";
import type { LiveConnection } from "$lib/live.svelte.ts";
import { runMutation } from "$lib/mutation.ts";
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import {
  type NotificationChannel,
  NotificationChannelsQuery,
  TestNotificationChannelMutation,
} from "./channel-operations.ts";

export type TestOutcome = { ok: boolean; text: string };

export class ChannelList {
  /** The read itself: its `loading`, `error` and `start()` are the panel's. */
  readonly query;
  readonly testing = new SvelteSet<string>();
  readonly outcomes = new SvelteMap<string, TestOutcome>();

  readonly #client: Client;

  constructor(client: Client, live: LiveConnection) {
    this.#client = client;
    this.query = new LiveQuery({ client, live, query: NotificationChannelsQuery, variables: () => ({}) });
  }

  get channels(): NotificationChannel[] {
    return this.query.data?.notificationChannels ?? [];
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
