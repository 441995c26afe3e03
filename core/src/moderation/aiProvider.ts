// Scores a review with the configured AI provider over HTTP, falling back to the deterministic
// classifier when AI_MODE is "deterministic" or the provider is unavailable. Each score records
// which classifier produced it.
import { classifyReview, type Signal } from "./classifier.ts";

export interface ScoringSettings {
  mode: "provider" | "deterministic";
  providerUrl?: string;
  timeoutMs: number;
  retries: number;
}

export interface Score {
  classifier: string;
  confidence: number;
  signals: Signal[];
}

export interface ProviderAnswer {
  confidence: number;
  labels?: string[];
}

function isProviderAnswer(value: unknown): value is ProviderAnswer {
  return (
    typeof value === "object" &&
    value !== null &&
    "confidence" in value &&
    typeof value.confidence === "number" &&
    value.confidence >= 0 &&
    value.confidence <= 1
  );
}

/** One scoring call; throws when the provider is unreachable or answers badly (the checkup's probe). */
export async function askProvider(
  url: string,
  review: { body: string; rating: number },
  timeoutMs: number,
): Promise<ProviderAnswer> {
  const response = await fetch(`${url.replace(/\/$/, "")}/v1/score`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text: review.body, rating: review.rating }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`AI provider answered HTTP ${response.status}`);
  const body: unknown = await response.json();
  if (!isProviderAnswer(body)) throw new Error("AI provider answered without a valid confidence");
  return body;
}

export async function scoreReview(settings: ScoringSettings, review: { body: string; rating: number }): Promise<Score> {
  if (settings.mode === "provider" && settings.providerUrl) {
    let lastError = "";
    for (let attempt = 0; attempt <= settings.retries; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (attempt - 1)));
      try {
        const answer = await askProvider(settings.providerUrl, review, settings.timeoutMs);
        return {
          classifier: "provider",
          confidence: answer.confidence,
          signals: (answer.labels ?? []).map((label) => ({
            kind: "SPAM_PHRASE",
            detail: `provider: ${label}`,
            weight: 0,
          })),
        };
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
      }
    }
    const fallback = classifyReview(review);
    return {
      classifier: `deterministic (provider unavailable: ${lastError})`.slice(0, 200),
      confidence: fallback.confidence,
      signals: fallback.signals,
    };
  }
  const result = classifyReview(review);
  return { classifier: "deterministic", confidence: result.confidence, signals: result.signals };
}
