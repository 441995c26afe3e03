// How reconciliation evidence is written as CSV.
import { describe, expect, it } from "vitest";
import { csvLine } from "./evidence.ts";

describe("csvLine", () => {
  it("quotes commas, quotes and line breaks, and defuses spreadsheet formulas", () => {
    expect(csvLine(["a", 2200, null, 'say "hi", then', "two\nlines"])).toBe(
      'a,2200,,"say ""hi"", then","two\nlines"\r\n',
    );
    expect(csvLine(["=HYPERLINK(1)", "+1", "-2", "@x"])).toBe("'=HYPERLINK(1),'+1,'-2,'@x\r\n");
  });
});
