// The shared-store port over ioredis: a client answers every command the port names, so the
// adapter only opens connections (and proves, by its return type, that the client fits).
import { Redis, type RedisOptions } from "ioredis";
import type { SharedStore } from "../ports/sharedStore.ts";

export type { Redis };

/**
 * One connection. ioredis reconnects by itself; without an error listener a dropped connection
 * would crash Node, so errors are left to the commands that fail (and to `onError`).
 */
export function connectRedis(
  url: string,
  options: RedisOptions,
  onError: (error: Error) => void = () => undefined,
): Redis {
  const redis = new Redis(url, options);
  redis.on("error", onError);
  return redis;
}

/** The client as core sees it. */
export function sharedStore(redis: Redis): SharedStore {
  return redis;
}
