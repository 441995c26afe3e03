// Random bearer secrets (session cookies, API tokens) and their stored form.
import { createHash, randomBytes } from "node:crypto";

export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

/** Secrets are 256 random bits, so a fast hash is enough and lookups stay a unique-index hit. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
