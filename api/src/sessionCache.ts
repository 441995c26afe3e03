// Who a session cookie or API token belongs to, remembered in this process: every request asks,
// and the database lookup (one statement, but Prisma's compile and a round trip) was a large part
// of a cheap request's cost. Revocation is pushed: core publishes `credentialsChanged` after the
// commit; on the publishing instance the cache forgets at once (`publishingThrough`), every other
// API instance when the Redis bus delivers it, so a revoked session or token is refused everywhere
// within the bus's delivery time. Entries also expire after `ttlMs`, which bounds how long a change
// is missed if a bus message is lost.
import type { ApiTokenActor, OperatorActor } from "@steward/core/actor";
import { apiTokenForSecret, type ApiTokenUse, recordApiTokenUse } from "@steward/core/apiTokens";
import { operatorForSession } from "@steward/core/auth";
import type { CredentialsChangedEvent, EventBus } from "@steward/core/ports/events";
import { hashSecret } from "@steward/core/secrets";
import type { Db } from "@steward/db/client";
import { followEvents } from "./followEvents.ts";

export interface CredentialLookup {
  operatorForSession(sessionToken: string): Promise<OperatorActor | null>;
  actorForApiToken(token: string): Promise<ApiTokenActor | null>;
}

export interface CredentialCacheOptions {
  /** The longest an entry is trusted without asking the database (a lost bus message's worst case). */
  ttlMs: number;
  /** Oldest entries are dropped beyond this many. */
  maxEntries: number;
}

const DEFAULTS: CredentialCacheOptions = { ttlMs: 10_000, maxEntries: 10_000 };

type Entry =
  | { kind: "session"; actor: OperatorActor; validUntil: number }
  | { kind: "token"; use: ApiTokenUse; validUntil: number };

export class CredentialCache implements CredentialLookup {
  /** By the secret's hash (never the secret itself). */
  private readonly entries = new Map<string, Entry>();
  /**
   * Bumped by every change: a lookup that was in flight while credentials changed may have read
   * the row from before the change, so its answer is used once but not remembered.
   */
  private generation = 0;
  private readonly options: CredentialCacheOptions;

  constructor(
    private readonly db: Db,
    private readonly events: EventBus,
    options: Partial<CredentialCacheOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  async operatorForSession(sessionToken: string): Promise<OperatorActor | null> {
    const key = `s:${hashSecret(sessionToken)}`;
    const now = Date.now();
    const cached = this.fresh(key, now);
    if (cached?.kind === "session" && (cached.actor.sessionExpiresAt?.getTime() ?? 0) > now) return cached.actor;
    const generation = this.generation;
    const actor = await operatorForSession(this.db, sessionToken);
    if (actor && generation === this.generation) {
      const expires = actor.sessionExpiresAt?.getTime() ?? now;
      this.remember(key, { kind: "session", actor, validUntil: Math.min(now + this.options.ttlMs, expires) });
    }
    return actor;
  }

  async actorForApiToken(token: string): Promise<ApiTokenActor | null> {
    const key = `t:${hashSecret(token)}`;
    const now = Date.now();
    const cached = this.fresh(key, now);
    if (cached?.kind === "token") {
      recordApiTokenUse(this.db, cached.use);
      return cached.use.actor;
    }
    const generation = this.generation;
    const use = await apiTokenForSecret(this.db, token);
    if (!use) return null;
    recordApiTokenUse(this.db, use);
    if (generation === this.generation)
      this.remember(key, { kind: "token", use, validUntil: now + this.options.ttlMs });
    return use.actor;
  }

  /**
   * The bus as this process's core publishes on it: a `credentialsChanged` is forgotten here before
   * it goes out, so this instance refuses the next request without waiting for its own message.
   */
  publishingThrough(bus: EventBus): EventBus {
    return {
      publish: (name, ...payload) => {
        if (name === "credentialsChanged") this.forget(payload[0] as CredentialsChangedEvent);
        bus.publish(name, ...payload);
      },
      subscribe: (name) => bus.subscribe(name),
    };
  }

  /** Drops every entry the change touches. */
  forget(change: CredentialsChangedEvent): void {
    this.generation++;
    const sessions = new Set(change.sessionIds);
    const operators = new Set(change.operatorIds);
    const tokens = new Set(change.apiTokenIds);
    for (const [key, entry] of this.entries) {
      const touched =
        entry.kind === "session"
          ? sessions.has(entry.actor.sessionId ?? "") || operators.has(entry.actor.id)
          : tokens.has(entry.use.actor.id);
      if (touched) this.entries.delete(key);
    }
  }

  /** Follows other instances' changes until the returned function is called. */
  listen(): () => Promise<void> {
    const stop = followEvents(this.events, "credentialsChanged", {
      onEvent: (change) => this.forget(change),
      // Changes may have been missed while no stream was open: forget everything (the next
      // lookups read the database).
      onGap: () => {
        this.generation++;
        this.entries.clear();
      },
    });
    return async () => {
      await stop();
      this.entries.clear();
    };
  }

  private fresh(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.validUntil > now) return entry;
    this.entries.delete(key);
    return undefined;
  }

  private remember(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    // A Map iterates in insertion order: the first key is the oldest.
    if (this.entries.size > this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
