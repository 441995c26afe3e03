// Text PostgreSQL cannot store: NUL (0x00 is refused in text and jsonb) and unpaired UTF-16
// surrogates (no UTF-8 encoding; jsonb refuses their escapes). Inputs carrying them are refused
// at the edge with a typed error; a signed Stripe event, which must never be lost, is stored with
// them written out as visible escapes instead.

const NUL = String.fromCharCode(0);
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, "g");

export function isStorableText(text: string): boolean {
  return !text.includes(NUL) && !LONE_SURROGATE.test(text);
}

/** Where in a JSON-like value (keys included) the first unstorable text is, as a path, or null. */
export function unstorableTextPath(value: unknown, path: string): string | null {
  if (typeof value === "string") return isStorableText(value) ? null : path;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = unstorableTextPath(item, `${path}[${index}]`);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (!isStorableText(key)) return `${path}.${JSON.stringify(key)}`;
      const found = unstorableTextPath(item, `${path}.${key}`);
      if (found) return found;
    }
  }
  return null;
}

/** The text with NUL and unpaired surrogates written out as `\u0000`, `\ud800`…: storable, and still visible. */
export function storableText(text: string): string {
  if (isStorableText(text)) return text;
  const escape = (character: string) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`;
  return text.split(NUL).join(escape(NUL)).replace(LONE_SURROGATES, escape);
}

/** A parsed JSON value with every string and key made storable (see storableText). */
export function storableJson(value: unknown): unknown {
  if (typeof value === "string") return storableText(value);
  if (Array.isArray(value)) return value.map(storableJson);
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [storableText(key), storableJson(item)]));
  return value;
}

/**
 * A search's words as LIKE matches them literally. Prisma's `contains` passes `%` and `_` through as
 * wildcards, so a search for "100%" or "_" matched every review, and "reject every match" with it
 * would have taken the whole queue.
 */
export const literalLike = (words: string): string => words.replace(/[\\%_]/g, (char) => `\\${char}`);
