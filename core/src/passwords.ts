// Operator passwords: argon2id with the library's defaults (OWASP-recommended parameters), and the
// policy every new password meets (NIST SP 800-63B: length over composition rules, no common ones).
import { hash, verify } from "@node-rs/argon2";
import { DomainError } from "./errors.ts";

export const MIN_PASSWORD_LENGTH = 12;
/** Long passphrases are welcome; the bound only keeps one hash from costing a request's worth of CPU. */
export const MAX_PASSWORD_LENGTH = 256;
/** Fewer distinct characters than this ("aaaaaaaaaaaa", "121212121212") is a pattern, not a password. */
const MIN_DISTINCT_CHARACTERS = 5;

// Common passwords that pass the length rule (from breach top lists), compared case-insensitively
// and without spaces. Short common ones are already refused by the length.
const COMMON_PASSWORDS = new Set([
  "123456789012",
  "1234567890123",
  "12345678901234",
  "123456789123",
  "098765432109",
  "111111111111",
  "123123123123",
  "1q2w3e4r5t6y",
  "1qaz2wsx3edc",
  "qwertyuiopas",
  "qwerty123456",
  "qwertyuiop123",
  "qwertyuiop[]",
  "asdfghjkl123",
  "zxcvbnm12345",
  "password1234",
  "password12345",
  "password123456",
  "passwordpassword",
  "password1234!",
  "password123!",
  "p@ssw0rd1234",
  "p@ssword1234",
  "iloveyou1234",
  "letmein12345",
  "welcome12345",
  "welcome123456",
  "changeme1234",
  "changeme123!",
  "administrator",
  "administrator1",
  "admin12345678",
  "adminadmin123",
  "abc123456789",
  "abcdefghijkl",
  "abcd1234abcd",
  "football1234",
  "baseball1234",
  "sunshine1234",
  "princess1234",
  "trustno1trustno1",
  "correcthorsebatterystaple",
  "steward12345",
  "steward123456",
  "stewardadmin",
]);

export type PasswordProblem = "TOO_SHORT" | "TOO_LONG" | "COMMON" | "REPETITIVE" | "CONTAINS_EMAIL";

/** The new password does not meet the policy; `problems` says why (one message each). */
export class WeakPasswordError extends DomainError {
  readonly code = "WEAK_PASSWORD";
  constructor(readonly problems: readonly PasswordProblem[]) {
    super(`Choose a stronger password: ${problems.map(describeProblem).join("; ")}`);
  }
}

function describeProblem(problem: PasswordProblem): string {
  switch (problem) {
    case "TOO_SHORT":
      return `use at least ${MIN_PASSWORD_LENGTH} characters (a few words make a good one)`;
    case "TOO_LONG":
      return `use at most ${MAX_PASSWORD_LENGTH} characters`;
    case "COMMON":
      return "this one is on lists of common passwords";
    case "REPETITIVE":
      return "it repeats too few characters";
    case "CONTAINS_EMAIL":
      return "it contains your email address";
  }
}

/** What is wrong with a new password (empty when it is fine). `email`: the account's, which it must not contain. */
export function passwordProblems(password: string, email?: string): PasswordProblem[] {
  const problems: PasswordProblem[] = [];
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) problems.push("TOO_SHORT");
  if (length > MAX_PASSWORD_LENGTH) problems.push("TOO_LONG");
  const normalized = password.toLowerCase().replace(/\s+/g, "");
  if (COMMON_PASSWORDS.has(normalized)) problems.push("COMMON");
  else if (length >= MIN_PASSWORD_LENGTH && new Set(normalized).size < MIN_DISTINCT_CHARACTERS)
    problems.push("REPETITIVE");
  const localPart = email?.trim().toLowerCase().split("@")[0] ?? "";
  if (localPart.length >= 4 && normalized.includes(localPart)) problems.push("CONTAINS_EMAIL");
  return problems;
}

export function assertStrongPassword(password: string, email?: string): void {
  const problems = passwordProblems(password, email);
  if (problems.length > 0) throw new WeakPasswordError(problems);
}

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

// Verifying against this when the email is unknown keeps both failures equally slow.
let dummyHash: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hash("steward-unknown-account-placeholder");
  await verifyPassword(await dummyHash, password);
}
