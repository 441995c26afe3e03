// Notification channel secrets (Slack webhook URLs, PagerDuty routing keys, webhook HMAC secrets)
// are stored encrypted with AES-256-GCM under NOTIFY_SECRET_KEY, so a database dump or backup
// alone cannot post to Slack, page anyone or forge a signed webhook. GCM also detects a stored
// value that was altered or sealed under another key.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import type { Env } from "./env.ts";

/** Marks a sealed value; the version lets a later scheme or key rotation tell values apart. */
const PREFIX = "enc:v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Development and test only (loadEnv refuses production without NOTIFY_SECRET_KEY): derived from a
 * public string, so it protects nothing; it just keeps the same code path everywhere.
 */
export const DEVELOPMENT_NOTIFY_SECRET_KEY = createHash("sha256")
  .update("steward development NOTIFY_SECRET_KEY: public, never for production")
  .digest();

export class ChannelSecretUnreadable extends Error {
  constructor() {
    super("The channel's stored secret cannot be decrypted: was NOTIFY_SECRET_KEY changed? Save the secret again.");
    this.name = "ChannelSecretUnreadable";
  }
}

export interface SecretCipher {
  seal(plain: string): string;
  /** The plain secret; a value stored before encryption existed is returned as it is. */
  open(stored: string): string;
}

export function channelSecretCipher(env: Pick<Env, "NOTIFY_SECRET_KEY">): SecretCipher {
  const key = env.NOTIFY_SECRET_KEY ? Buffer.from(env.NOTIFY_SECRET_KEY, "base64") : DEVELOPMENT_NOTIFY_SECRET_KEY;
  return {
    seal(plain) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const sealed = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64");
    },
    open(stored) {
      if (!stored.startsWith(PREFIX)) return stored;
      const bytes = Buffer.from(stored.slice(PREFIX.length), "base64");
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, IV_BYTES));
        decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
        return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
          "utf8",
        );
      } catch {
        throw new ChannelSecretUnreadable();
      }
    },
  };
}
