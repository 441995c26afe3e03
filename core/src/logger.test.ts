// Credentials never reach a log line, whichever object they ride in.
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";

describe("createLogger", () => {
  it("censors passwords, tokens, cookies and authorization headers", () => {
    const lines: string[] = [];
    const logger = createLogger("test", "info", { write: (line: string) => lines.push(line) });
    logger.info({ input: { email: "a@test.example", password: "pw-secret" } }, "login");
    logger.info({ req: { headers: { authorization: "Bearer stw_secret", cookie: "steward_session=sst_secret" } } });
    logger.info({ created: { token: "stw_created_secret" }, sessionToken: "sst_other_secret" });
    const output = lines.join("\n");
    for (const secret of ["pw-secret", "stw_secret", "sst_secret", "stw_created_secret", "sst_other_secret"]) {
      expect(output).not.toContain(secret);
    }
    expect(output).toContain("a@test.example");
    expect(output).toContain("[redacted]");
  });
});
