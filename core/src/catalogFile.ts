// Reading a catalog file line by line for importCatalog: CSV (a header line, then one business
// per line) or NDJSON (one JSON object per line). Lazy, so a file far over the row cap is refused
// without being read to the end; every line is decoded on its own, so a bad byte is reported with
// its line number instead of failing (or silently mangling) the whole file.
//
//   CSV header:  external_id,region_id,name,email   (externalId/regionId spellings work too)
//   NDJSON line: {"externalId":"b-1","regionId":"melbourne","name":"…","email":"…"}
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import type { CatalogLine } from "./catalog.ts";

export type CatalogFormat = "csv" | "ndjson";

const FIELD_ALIASES: Record<string, string> = {
  external_id: "externalId",
  externalid: "externalId",
  id: "externalId",
  region_id: "regionId",
  regionid: "regionId",
  region: "regionId",
  name: "name",
  email: "email",
};
const REQUIRED = ["externalId", "regionId", "name", "email"] as const;

export function formatOfPath(path: string): CatalogFormat | null {
  if (/\.csv$/i.test(path)) return "csv";
  if (/\.(ndjson|jsonl)$/i.test(path)) return "ndjson";
  return null;
}

/** One CSV record on one line: commas, "quoted, fields" and "" for a quote inside quotes. */
export function parseCsvLine(text: string): string[] | { error: string } {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  let index = 0;
  while (index < text.length) {
    const char = text[index] as string;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index += 2;
        continue;
      }
      if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"' && field === "") quoted = true;
    else if (char === ",") {
      fields.push(field);
      field = "";
    } else field += char;
    index++;
  }
  if (quoted) return { error: "unterminated quote (a field cannot span lines)" };
  fields.push(field);
  return fields;
}

/** Splits a byte stream at "\n" (dropping a "\r" before it); yields each line's bytes with its number. */
async function* byteLines(stream: Readable): AsyncGenerator<{ line: number; bytes: Buffer }> {
  let rest = Buffer.alloc(0);
  let line = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const buffer = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let at = buffer.indexOf(10, start); at !== -1; at = buffer.indexOf(10, start)) {
      const end = at > start && buffer[at - 1] === 13 ? at - 1 : at;
      yield { line: ++line, bytes: buffer.subarray(start, end) };
      start = at + 1;
    }
    rest = Buffer.from(buffer.subarray(start));
  }
  if (rest.length > 0) yield { line: line + 1, bytes: rest[rest.length - 1] === 13 ? rest.subarray(0, -1) : rest };
}

/**
 * The file's lines as importCatalog takes them. Blank lines are skipped (not counted as rows);
 * line numbers are the file's own (the CSV header is line 1).
 */
export async function* readCatalogLines(stream: Readable, format: CatalogFormat): AsyncGenerator<CatalogLine> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let columns: (string | null)[] | null = null;
  for await (const { line, bytes } of byteLines(stream)) {
    if (
      line === 1 &&
      bytes.length >= 2 &&
      ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    ) {
      yield { line, error: "the file is UTF-16; save it as UTF-8" };
      return;
    }
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      yield { line, error: "not valid UTF-8 (wrong encoding? save the file as UTF-8)" };
      if (format === "csv" && columns === null) return;
      continue;
    }
    if (line === 1) text = text.replace(/^\uFEFF/, "");
    if (text.trim() === "") continue;
    if (format === "ndjson") {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        yield { line, error: "not a JSON object" };
        continue;
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        yield { line, error: "not a JSON object" };
        continue;
      }
      const fields: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(value)) fields[FIELD_ALIASES[key.toLowerCase()] ?? key] = field;
      yield { line, fields };
      continue;
    }
    const parsed = parseCsvLine(text);
    if (!Array.isArray(parsed)) {
      yield { line, error: parsed.error };
      continue;
    }
    if (columns === null) {
      columns = parsed.map((name) => FIELD_ALIASES[name.trim().toLowerCase()] ?? null);
      const missing = REQUIRED.filter((name) => !columns?.includes(name));
      if (missing.length > 0) {
        yield {
          line,
          error: `the header must name the columns external_id,region_id,name,email (missing: ${missing.join(", ")})`,
        };
        return;
      }
      continue;
    }
    if (parsed.length !== columns.length) {
      yield { line, error: `${parsed.length} fields where the header has ${columns.length}` };
      continue;
    }
    const fields: Record<string, unknown> = {};
    columns.forEach((name, index) => {
      if (name) fields[name] = parsed[index];
    });
    yield { line, fields };
  }
}

export function readCatalogFile(path: string, format: CatalogFormat): AsyncGenerator<CatalogLine> {
  return readCatalogLines(createReadStream(path, { highWaterMark: 1 << 20 }), format);
}
