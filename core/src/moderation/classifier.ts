// The deterministic review classifier: the fallback when the AI provider is off or down
// (AI_MODE=deterministic). Explainable on purpose: every point it takes off is a named signal,
// so an operator can see why a review was not auto-eligible.

export type SignalKind =
  "LINK" | "SPAM_PHRASE" | "PROFANITY" | "OFF_TOPIC" | "TOO_SHORT" | "TOO_LONG" | "SHOUTING" | "REPETITION";

export interface Signal {
  kind: SignalKind;
  detail: string;
  /** How much this signal lowers the confidence that the review is fine to publish. */
  weight: number;
}

export interface Classification {
  /** 0–1: confidence that the review can be published as is. */
  confidence: number;
  signals: Signal[];
  /** The rejection reason the strongest signal points at, if any. */
  suggestedReason: "SPAM" | "PROFANITY" | "OFF_TOPIC" | "OTHER" | null;
}

export interface ClassifierVocabulary {
  /** Words that show a review is about the marketplace's trade (for a dog-trainer directory: dog, puppy, lead…). */
  onTopicWords: readonly string[];
}

export const DOG_TRAINING_VOCABULARY: ClassifierVocabulary = {
  onTopicWords: [
    "dog",
    "dogs",
    "puppy",
    "puppies",
    "pup",
    "trainer",
    "training",
    "train",
    "trained",
    "class",
    "classes",
    "session",
    "sessions",
    "lead",
    "leash",
    "recall",
    "sit",
    "stay",
    "heel",
    "behaviour",
    "behavior",
    "reactive",
    "rescue",
    "walk",
    "walking",
    "bark",
    "barking",
    "obedience",
    "kelpie",
    "cavoodle",
    "labrador",
    "groodle",
    "border",
    "collie",
    "lesson",
    "lessons",
    "coach",
    "socialisation",
    "socialization",
  ],
};

const SPAM_PHRASES = [
  "buy now",
  "click here",
  "cheap pills",
  "best prices",
  "discount code",
  "free money",
  "work from home",
  "crypto",
  "bitcoin",
  "viagra",
  "casino",
  "loan offer",
  "visit my site",
  "dm me",
  "promo code",
  "earn $",
];

// Kept short and unambiguous; matched on word boundaries so "Scunthorpe" stays clean.
const PROFANITY = [
  "fuck",
  "fucking",
  "shit",
  "shitty",
  "bitch",
  "bastard",
  "asshole",
  "arsehole",
  "cunt",
  "dickhead",
  "wanker",
  "crap",
];

const MIN_LENGTH = 20;
const MAX_LENGTH = 5000;

function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z']+/g) ?? [];
}

export function classifyReview(
  review: { body: string; rating: number },
  vocabulary: ClassifierVocabulary = DOG_TRAINING_VOCABULARY,
): Classification {
  const body = review.body.trim();
  const lower = body.toLowerCase();
  const tokens = words(body);
  const signals: Signal[] = [];

  const links = body.match(/\b(?:https?:\/\/|www\.)\S+/gi) ?? [];
  if (links.length > 0) signals.push({ kind: "LINK", detail: `${links.length} link(s)`, weight: 0.35 });

  const spam = SPAM_PHRASES.filter((phrase) => lower.includes(phrase));
  if (spam.length > 0)
    signals.push({ kind: "SPAM_PHRASE", detail: spam.join(", "), weight: Math.min(0.3 + 0.15 * spam.length, 0.7) });

  const profane = [...new Set(tokens.filter((token) => PROFANITY.includes(token)))];
  if (profane.length > 0)
    signals.push({ kind: "PROFANITY", detail: profane.join(", "), weight: Math.min(0.45 + 0.1 * profane.length, 0.7) });

  if (body.length < MIN_LENGTH) signals.push({ kind: "TOO_SHORT", detail: `${body.length} characters`, weight: 0.25 });
  if (body.length > MAX_LENGTH) signals.push({ kind: "TOO_LONG", detail: `${body.length} characters`, weight: 0.2 });

  const letters = body.replace(/[^a-z]/gi, "");
  const upper = letters.replace(/[^A-Z]/g, "").length;
  if (letters.length >= 20 && upper / letters.length > 0.6)
    signals.push({ kind: "SHOUTING", detail: "mostly capitals", weight: 0.15 });

  if (/(.)\1{5,}/.test(body) || /(!|\?){4,}/.test(body))
    signals.push({ kind: "REPETITION", detail: "repeated characters", weight: 0.1 });

  const onTopic = tokens.some((token) => vocabulary.onTopicWords.includes(token));
  if (!onTopic && tokens.length >= 5)
    signals.push({ kind: "OFF_TOPIC", detail: "no word about the service", weight: 0.4 });

  // Independent signals combine multiplicatively: two medium signals are worse than one, but
  // the confidence never goes negative.
  const confidence = signals.reduce((remaining, signal) => remaining * (1 - signal.weight), 0.98);
  return { confidence: Math.round(confidence * 1000) / 1000, signals, suggestedReason: reasonFor(signals) };
}

/** The rejection reason the strongest signal points at (null without signals). */
export function reasonFor(signals: readonly Signal[]): Classification["suggestedReason"] {
  const strongest = [...signals].sort((a, b) => b.weight - a.weight)[0];
  if (!strongest) return null;
  switch (strongest.kind) {
    case "LINK":
    case "SPAM_PHRASE":
      return "SPAM";
    case "PROFANITY":
      return "PROFANITY";
    case "OFF_TOPIC":
      return "OFF_TOPIC";
    default:
      return "OTHER";
  }
}
