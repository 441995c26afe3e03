// The shared-store port: the few Redis commands core uses for state every instance shares and
// that may be lost (login throttle counters, webhook delivery windows, the API's window
// summaries, health probes). Named after the commands, since their atomicity is the contract.
// An ioredis client satisfies it as it is; core/src/adapters/redis.ts opens one.

/** A MULTI … EXEC transaction: the queued commands run atomically. */
export interface StoreTransaction {
  hincrby(key: string, field: string, increment: number): StoreTransaction;
  pexpire(key: string, milliseconds: number): StoreTransaction;
  /** Each command's [error, reply], in order; null when the transaction was aborted. */
  exec(): Promise<[error: Error | null, reply: unknown][] | null>;
}

export interface SharedStore {
  ping(): Promise<string>;
  hset(key: string, field: string, value: string): Promise<number>;
  hdel(key: string, ...fields: string[]): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
  /** Runs a Lua script atomically: the first `numberOfKeys` arguments are keys, the rest ARGV. */
  eval(script: string, numberOfKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  multi(): StoreTransaction;
}
