// Checks a threshold typed into the rules editor against the range the API publishes for it
// (the same zod schema the server validates with), so a bad value is caught before sending.
export interface ThresholdRange {
  name: string;
  min: number | null;
  minExclusive: boolean;
  max: number | null;
  integer: boolean;
}

export function thresholdProblem(range: ThresholdRange, raw: string): string | null {
  const text = raw.trim();
  if (text === "") return `${range.name}: enter a number`;
  const value = Number(text);
  if (!Number.isFinite(value)) return `${range.name}: "${text}" is not a number`;
  if (range.integer && !Number.isInteger(value)) return `${range.name}: use a whole number`;
  if (range.min !== null && (range.minExclusive ? value <= range.min : value < range.min))
    return `${range.name}: must be ${range.minExclusive ? "more than" : "at least"} ${range.min}`;
  if (range.max !== null && value > range.max) return `${range.name}: must be at most ${range.max}`;
  return null;
}

export function describeRange(range: ThresholdRange): string {
  const low = range.min === null ? "" : `${range.minExclusive ? ">" : "≥"} ${range.min}`;
  const high = range.max === null ? "" : `≤ ${range.max}`;
  return [low, high].filter(Boolean).join(", ") + (range.integer ? " (whole)" : "");
}
