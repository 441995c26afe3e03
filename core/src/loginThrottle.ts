// Login throttling, counted in Redis BEFORE the password is checked, in one atomic script: every
// API instance shares the counters, and concurrent guesses (a burst, aliased `login` fields in
// one document) cannot all slip between a read and a write. Three budgets:
//   account + address  LOGIN_MAX_FAILURES_PER_ACCOUNT checks per window; then that address (only)
//                      is refused for the rest of the window.
//   address            LOGIN_MAX_FAILURES_PER_ADDRESS checks per window across accounts (one guess
//                      at many accounts); failures its account's owner followed with a success
//                      from there are forgiven, so an office behind one address is not punished.
//   account            past LOGIN_MAX_FAILURES_PER_ACCOUNT checks from all addresses, each further
//                      check waits a delay that doubles per check (LOGIN_SLOWDOWN_BASE_SECONDS up to
//                      LOGIN_SLOWDOWN_MAX_SECONDS): a botnet is slowed, the owner is never shut out.
//                      An address that signed in to the account before skips this delay.
// A refused attempt is not checked and changes no counter, so it never extends a refusal; each
// window starts at its first counted attempt. A success clears the account and the pair.
import type { SharedStore } from "./ports/sharedStore.ts";

export interface LoginThrottleSettings {
  maxFailuresPerAccount: number;
  maxFailuresPerAddress: number;
  failureWindowMinutes: number;
  slowdownBaseSeconds: number;
  slowdownMaxSeconds: number;
}

export type Admission =
  { admitted: true } | { admitted: false; limit: "account-address" | "address" | "account"; retryAfterSeconds: number };

export interface LoginThrottle {
  /** Counts one check of `email` from `address`, or refuses it (and counts nothing). */
  admit(email: string, address: string, knownAddress: boolean): Promise<Admission>;
  /** The check succeeded: the account's failures go, and the address's failures at this account. */
  succeeded(email: string, address: string): Promise<void>;
}

// KEYS: pair, address, account. ARGV: now ms, window ms, pair limit, address limit, account
// limit, base delay ms, max delay ms, known (1/0). Returns {1} or {0, limit, wait ms}.
const ADMIT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local pair = tonumber(redis.call('GET', KEYS[1]) or '0')
if pair >= tonumber(ARGV[3]) then return {0, 'account-address', redis.call('PTTL', KEYS[1])} end
local address = tonumber(redis.call('GET', KEYS[2]) or '0')
if address >= tonumber(ARGV[4]) then return {0, 'address', redis.call('PTTL', KEYS[2])} end
local accountLimit = tonumber(ARGV[5])
local checks = tonumber(redis.call('HGET', KEYS[3], 'checks') or '0')
local nextAt = tonumber(redis.call('HGET', KEYS[3], 'next') or '0')
if ARGV[8] ~= '1' and checks >= accountLimit and now < nextAt then return {0, 'account', nextAt - now} end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], window) end
if redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], window) end
checks = redis.call('HINCRBY', KEYS[3], 'checks', 1)
if checks == 1 then redis.call('PEXPIRE', KEYS[3], window) end
if checks >= accountLimit then
  local delay = math.min(tonumber(ARGV[6]) * 2 ^ (checks - accountLimit), tonumber(ARGV[7]))
  redis.call('HSET', KEYS[3], 'next', now + delay)
end
return {1}
`;

// KEYS: pair, address, account.
const SUCCEEDED = `
local pair = tonumber(redis.call('GET', KEYS[1]) or '0')
redis.call('DEL', KEYS[1], KEYS[3])
if pair > 0 and redis.call('EXISTS', KEYS[2]) == 1 then
  if redis.call('DECRBY', KEYS[2], pair) <= 0 then redis.call('DEL', KEYS[2]) end
end
return 1
`;

export function createLoginThrottle(
  redis: SharedStore,
  prefix: string,
  settings: LoginThrottleSettings,
): LoginThrottle {
  const keys = (email: string, address: string) => [
    `${prefix}:login:pair:${email}:${address}`,
    `${prefix}:login:address:${address}`,
    `${prefix}:login:account:${email}`,
  ];
  return {
    async admit(email, address, knownAddress) {
      const answer = (await redis.eval(
        ADMIT,
        3,
        ...keys(email, address),
        Date.now(),
        settings.failureWindowMinutes * 60_000,
        settings.maxFailuresPerAccount,
        settings.maxFailuresPerAddress,
        settings.maxFailuresPerAccount,
        settings.slowdownBaseSeconds * 1000,
        settings.slowdownMaxSeconds * 1000,
        knownAddress ? "1" : "0",
      )) as [number, string?, number?];
      if (answer[0] === 1) return { admitted: true };
      const limit = answer[1] as "account-address" | "address" | "account";
      return { admitted: false, limit, retryAfterSeconds: Math.max(1, Math.ceil((answer[2] ?? 1000) / 1000)) };
    },
    async succeeded(email, address) {
      await redis.eval(SUCCEEDED, 3, ...keys(email, address));
    },
  };
}
