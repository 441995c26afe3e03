// The scoring path against the sandbox AI server: a healthy provider scores, and a slow,
// failing or unreachable one falls back to the deterministic classifier (and says so).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scoreReview } from "../../../core/src/moderation/aiProvider.ts";
import { type AiSandbox, startAiSandbox } from "../../src/ai/server.ts";

let ai: AiSandbox;
beforeAll(async () => {
  ai = await startAiSandbox();
});
afterAll(() => ai.stop());

const review = { body: "Great puppy class, our cavoodle now waits at the door", rating: 5 };
const settings = () => ({ mode: "provider" as const, providerUrl: ai.url, timeoutMs: 300, retries: 2 });

describe("scoring with the AI provider", () => {
  it("uses the provider when it answers", async () => {
    ai.setMode("ok");
    const score = await scoreReview(settings(), review);
    expect(score.classifier).toBe("provider");
    expect(score.confidence).toBeGreaterThan(0.9);
  });

  it.each(["fail", "down", "slow"] as const)(
    "retries, then falls back to the deterministic classifier when the provider is %s",
    async (mode) => {
      ai.setMode(mode, 2_000);
      const before = ai.requestCount();
      const score = await scoreReview(settings(), review);
      expect(score.classifier).toMatch(/^deterministic \(provider unavailable/);
      expect(score.confidence).toBeGreaterThan(0.9);
      expect(ai.requestCount() - before).toBe(3); // one try and two retries
    },
  );

  it("does not call the provider at all in deterministic mode", async () => {
    ai.setMode("ok");
    const before = ai.requestCount();
    const score = await scoreReview({ ...settings(), mode: "deterministic" }, review);
    expect(score.classifier).toBe("deterministic");
    expect(ai.requestCount()).toBe(before);
  });
});
