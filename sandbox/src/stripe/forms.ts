/**
 * Parsing of Stripe's form encoding (`application/x-www-form-urlencoded` bodies and
 * GET query strings) with bracket notation, as the SDK writes it:
 *   metadata[business_id]=b1   created[gte]=1700000000   expand[0]=refunds   expand[]=x
 * `qs` is not a dependency, so this is a small parser on top of URLSearchParams.
 */
import { invalidParam, missingParam } from "./errors.ts";

export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

// Objects under these keys are maps chosen by the caller: never turned into arrays.
const MAP_KEYS = new Set(["metadata"]);

export function parseForm(text: string): FormObject {
  const root: FormObject = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    assign(root, splitKey(rawKey), value);
  }
  return normalizeArrays(root, "") as FormObject;
}

/** `a[b][c]` → ['a', 'b', 'c']; a malformed key is kept whole. */
function splitKey(key: string): string[] {
  const open = key.indexOf("[");
  if (open <= 0 || !key.endsWith("]")) return [key];
  const head = key.slice(0, open);
  const rest = key.slice(open);
  const segments: string[] = [head];
  const re = /\[([^\]]*)\]/g;
  let consumed = 0;
  for (const match of rest.matchAll(re)) {
    if (match.index !== consumed) return [key];
    segments.push(match[1] ?? "");
    consumed += match[0].length;
  }
  return consumed === rest.length ? segments : [key];
}

function assign(target: FormObject, path: string[], value: string): void {
  let node = target;
  for (let i = 0; i < path.length; i += 1) {
    let segment = path[i] ?? "";
    // `name[]` appends: give it the next free index so it reads like `name[n]`.
    if (segment === "" && i > 0) segment = String(Object.keys(node).length);
    if (i === path.length - 1) {
      node[segment] = value;
      return;
    }
    const existing = node[segment];
    if (existing !== undefined && typeof existing === "object" && !Array.isArray(existing)) {
      node = existing;
    } else {
      // A scalar followed by a nested key of the same name: the nested form wins, like qs.
      const child: FormObject = {};
      node[segment] = child;
      node = child;
    }
  }
}

/** Objects whose keys are exactly 0..n-1 become arrays (`expand[0]`, `expand[1]`). */
function normalizeArrays(value: FormValue, key: string): FormValue {
  if (typeof value === "string" || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const out: FormObject = {};
  for (const k of keys) {
    const child = value[k];
    if (child !== undefined) out[k] = normalizeArrays(child, k);
  }
  if (MAP_KEYS.has(key) || keys.length === 0) return out;
  const isList = keys.every((k, i) => k === String(i));
  return isList ? keys.map((k) => out[k] ?? "") : out;
}

/** Stable text of a parameter set, used to tell "same parameters" for idempotency. */
export function canonicalParams(value: FormValue): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalParams).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalParams(value[k] ?? "")}`).join(",")}}`;
}

export interface CreatedRange {
  gte?: number;
  gt?: number;
  lte?: number;
  lt?: number;
}

/**
 * Typed access to request parameters with Stripe's error messages. Reading a parameter
 * marks it known; `rejectUnknown()` then answers like Stripe does for typos.
 */
export class Params {
  private readonly seen = new Set<string>();

  constructor(readonly raw: FormObject) {}

  has(name: string): boolean {
    return this.raw[name] !== undefined;
  }

  string(name: string): string | undefined {
    this.seen.add(name);
    const value = this.raw[name];
    if (value === undefined) return undefined;
    if (typeof value !== "string")
      throw invalidParam(name, `Invalid string: ${describe(value)}`, "parameter_invalid_string");
    return value;
  }

  requiredString(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === "") throw missingParam(name);
    return value;
  }

  integer(name: string, bounds: { min?: number; max?: number } = {}): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    return parseInteger(name, text, bounds);
  }

  boolean(name: string): boolean | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    if (text === "true") return true;
    if (text === "false") return false;
    throw invalidParam(name, `Invalid boolean: ${text}`, "parameter_invalid_boolean");
  }

  metadata(name = "metadata"): Record<string, string> | undefined {
    this.seen.add(name);
    const value = this.raw[name];
    if (value === undefined) return undefined;
    // `metadata=` (empty string) clears metadata in Stripe.
    if (value === "") return {};
    if (typeof value === "string" || Array.isArray(value))
      throw invalidParam(name, `Invalid hash`, "parameter_invalid_hash");
    const out: Record<string, string> = {};
    for (const [key, v] of Object.entries(value)) {
      if (typeof v !== "string") throw invalidParam(`${name}[${key}]`, "Invalid string", "parameter_invalid_string");
      if (key.length > 40) throw invalidParam(`${name}[${key}]`, "Metadata keys can be at most 40 characters long.");
      if (v.length > 500) throw invalidParam(`${name}[${key}]`, "Metadata values can be at most 500 characters long.");
      out[key] = v;
    }
    if (Object.keys(out).length > 50) throw invalidParam(name, "Metadata can have at most 50 keys.");
    return out;
  }

  stringList(name: string): string[] | undefined {
    this.seen.add(name);
    const value = this.raw[name];
    if (value === undefined) return undefined;
    if (typeof value === "string") return [value];
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
      throw invalidParam(name, "Invalid array", "parameter_invalid_array");
    }
    return value.filter((v): v is string => typeof v === "string");
  }

  /** `created=<ts>` or `created[gte|gt|lte|lt]=<ts>`. */
  createdRange(name = "created"): CreatedRange | undefined {
    this.seen.add(name);
    const value = this.raw[name];
    if (value === undefined) return undefined;
    if (typeof value === "string") {
      const exact = parseInteger(name, value, {});
      return { gte: exact, lte: exact };
    }
    if (Array.isArray(value)) throw invalidParam(name, "Invalid hash", "parameter_invalid_hash");
    const range: CreatedRange = {};
    for (const [op, v] of Object.entries(value)) {
      if (op !== "gte" && op !== "gt" && op !== "lte" && op !== "lt") {
        throw unknownParam(`${name}[${op}]`);
      }
      if (typeof v !== "string") throw invalidParam(`${name}[${op}]`, "Invalid integer", "parameter_invalid_integer");
      range[op] = parseInteger(`${name}[${op}]`, v, {});
    }
    return range;
  }

  /** Mark parameters the endpoint accepts but ignores (e.g. `expand`). */
  accept(...names: string[]): void {
    for (const n of names) this.seen.add(n);
  }

  rejectUnknown(): void {
    for (const key of Object.keys(this.raw)) {
      if (!this.seen.has(key)) throw unknownParam(key);
    }
  }
}

function unknownParam(param: string): Error {
  return invalidParam(param, `Received unknown parameter: ${param}`, "parameter_unknown");
}

function parseInteger(name: string, text: string, bounds: { min?: number; max?: number }): number {
  if (!/^-?\d+$/.test(text)) throw invalidParam(name, `Invalid integer: ${text}`, "parameter_invalid_integer");
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw invalidParam(name, `Invalid integer: ${text}`, "parameter_invalid_integer");
  if (bounds.min !== undefined && n < bounds.min) {
    throw invalidParam(name, `This value must be greater than or equal to ${bounds.min}.`, "parameter_invalid_integer");
  }
  if (bounds.max !== undefined && n > bounds.max) {
    throw invalidParam(name, `This value must be less than or equal to ${bounds.max}.`, "parameter_invalid_integer");
  }
  return n;
}

function describe(value: FormValue): string {
  return typeof value === "string" ? value : Array.isArray(value) ? "array" : "hash";
}
