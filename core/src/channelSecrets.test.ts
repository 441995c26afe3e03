// Channel secrets sealed with AES-256-GCM: a fresh IV each time, the plain text nowhere in the
// stored form, any alteration or another key refused with a typed error.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ChannelSecretUnreadable, channelSecretCipher } from "./channelSecrets.ts";

const SECRET = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";

describe("channelSecretCipher", () => {
  const cipher = channelSecretCipher({ NOTIFY_SECRET_KEY: randomBytes(32).toString("base64") });

  it("seals to a versioned value without the plain text, different each time, and opens it again", () => {
    const first = cipher.seal(SECRET);
    const second = cipher.seal(SECRET);
    expect(first).toMatch(/^enc:v1:/);
    expect(first).not.toContain("XXXXSECRET");
    expect(first).not.toBe(second);
    expect(cipher.open(first)).toBe(SECRET);
    expect(cipher.open(second)).toBe(SECRET);
  });

  it("refuses a value sealed under another key, or altered", () => {
    const sealed = cipher.seal(SECRET);
    const other = channelSecretCipher({ NOTIFY_SECRET_KEY: randomBytes(32).toString("base64") });
    expect(() => other.open(sealed)).toThrow(ChannelSecretUnreadable);
    expect(() => channelSecretCipher({}).open(sealed)).toThrow(ChannelSecretUnreadable);
    const bytes = Buffer.from(sealed.slice("enc:v1:".length), "base64");
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    expect(() => cipher.open(`enc:v1:${bytes.toString("base64")}`)).toThrow(ChannelSecretUnreadable);
  });

  it("reads a secret stored before encryption as it is", () => {
    expect(cipher.open("R0UT1NGKEY")).toBe("R0UT1NGKEY");
  });
});
