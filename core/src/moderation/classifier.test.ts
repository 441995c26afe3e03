import { describe, expect, it } from "vitest";
import { classifyReview } from "./classifier.ts";

const AUTO_APPROVE = 0.9;

describe("deterministic review classifier", () => {
  it("is confident about an ordinary, on-topic review", () => {
    const result = classifyReview({
      body: "Our rescue dog went from reactive to relaxed in six sessions. Patient, kind trainer.",
      rating: 5,
    });
    expect(result.confidence).toBeGreaterThanOrEqual(AUTO_APPROVE);
    expect(result.signals).toEqual([]);
    expect(result.suggestedReason).toBeNull();
  });

  it("flags links and spam phrases as SPAM, well below the auto-approve threshold", () => {
    const result = classifyReview({
      body: "Cheap pills online, click here: http://spam.example best prices for dog owners",
      rating: 5,
    });
    expect(result.signals.map((signal) => signal.kind)).toEqual(expect.arrayContaining(["LINK", "SPAM_PHRASE"]));
    expect(result.suggestedReason).toBe("SPAM");
    expect(result.confidence).toBeLessThan(0.5);
  });

  it("flags profanity on word boundaries only", () => {
    const rude = classifyReview({ body: "This trainer is a total wanker, shit class for my dog", rating: 1 });
    expect(rude.suggestedReason).toBe("PROFANITY");
    expect(rude.confidence).toBeLessThan(AUTO_APPROVE);
    const clean = classifyReview({
      body: "Drove in from Scunthorpe for the puppy class and it was worth it",
      rating: 5,
    });
    expect(clean.signals.find((signal) => signal.kind === "PROFANITY")).toBeUndefined();
  });

  it("flags reviews that say nothing about the service as OFF_TOPIC", () => {
    const result = classifyReview({
      body: "Does anyone know a good plumber around here? Asking for my neighbour.",
      rating: 3,
    });
    expect(result.suggestedReason).toBe("OFF_TOPIC");
    expect(result.confidence).toBeLessThan(AUTO_APPROVE);
  });

  it("penalises very short and shouting reviews", () => {
    expect(classifyReview({ body: "Good dog", rating: 5 }).signals.map((signal) => signal.kind)).toContain("TOO_SHORT");
    const shouting = classifyReview({ body: "WORST DOG TRAINER EVER DO NOT GO HERE!!!!!!", rating: 1 });
    expect(shouting.signals.map((signal) => signal.kind)).toEqual(expect.arrayContaining(["SHOUTING", "REPETITION"]));
  });

  it("is deterministic: the same review always gets the same score", () => {
    const review = { body: "Loose lead walking finally clicked for our kelpie, thanks!", rating: 4 };
    expect(classifyReview(review)).toEqual(classifyReview(review));
  });
});
