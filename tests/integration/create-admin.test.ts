// `npm run steward -- create-admin`, run as a marketplace would on its new database: without a
// terminal it prints a one-time setup link (the first ADMIN chooses name and password there); on a
// terminal it asks for the password without echoing it; once an active ADMIN exists it refuses
// with a clear message and changes nothing, and an older setup link stops working.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { acceptInvite, AdminAlreadyExistsError } from "@steward/core/operators";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { quietDeps } from "../support/deps.ts";

const repoRoot = join(import.meta.dirname, "../..");
const PUBLIC_URL = "https://steward.marketplace.test";
let database: TestDatabase;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function steward(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["tsx", "scripts/steward.ts", ...args], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: database.url, PUBLIC_URL, NODE_ENV: "test" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end();
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function setupToken(output: string): string {
  const match = new RegExp(`${PUBLIC_URL}/set-password#(\\S+)`).exec(output);
  if (!match?.[1]) throw new Error(`no setup link in: ${output}`);
  return match[1];
}

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe("create-admin", () => {
  it("without a terminal prints a one-time setup link; the first ADMIN is created when it is used", async () => {
    const first = await steward(["create-admin", "Founder@Marketplace.test"]);
    expect(first.stderr).not.toMatch(/Refused/);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Setup link for founder@marketplace\.test \(works once, until \d{4}-\d\d-\d\dT/);
    const token = setupToken(first.stdout);
    // A second link printed before the first was used: it will be refused once an admin exists.
    const second = await steward(["create-admin", "cofounder@marketplace.test", "--setup-link"]);
    const laterToken = setupToken(second.stdout);
    expect(await database.db.operator.count()).toBe(0);

    const admin = await acceptInvite(quietDeps(database.db), {
      token,
      name: "Fay Founder",
      password: "plum kettle orbit 42",
    });
    expect(admin).toMatchObject({ email: "founder@marketplace.test", name: "Fay Founder", role: "ADMIN" });
    const audit = await database.db.auditEvent.findMany({ where: { action: { startsWith: "operator.first_admin" } } });
    expect(audit.map((entry) => entry.action).sort()).toEqual([
      "operator.first_admin_created",
      "operator.first_admin_link",
      "operator.first_admin_link",
    ]);

    await expect(
      acceptInvite(quietDeps(database.db), { token: laterToken, name: "Cole", password: "quiet harbour lantern 7" }),
    ).rejects.toBeInstanceOf(AdminAlreadyExistsError);
    expect(await database.db.operator.count()).toBe(1);
  });

  it("is refused with a clear message once an active ADMIN exists, and changes nothing", async () => {
    const linksBefore = await database.db.operatorLink.count();
    const refused = await steward(["create-admin", "someone@marketplace.test"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      "Refused: Steward already has an active admin (founder@marketplace.test). They invite more people from the Operators page; nothing was changed.",
    );
    expect(refused.stdout).not.toContain("set-password");
    expect(await database.db.operatorLink.count()).toBe(linksBefore);
    expect(await database.db.operator.count()).toBe(1);
  });

  it("on a terminal asks for the password twice without echoing it, and refuses a weak one", async () => {
    // Only the terminal path is under test here: the founder steps aside for it.
    await database.db.operator.updateMany({ data: { disabledAt: new Date() } });
    const secret = "velvet canyon ladder 19";
    const command = `npx tsx scripts/steward.ts create-admin ops@marketplace.test --name 'Olu Ops'`;
    // `script` gives the command a real terminal; each answer is typed once its prompt shows.
    const answers = ["password1234", secret, secret];
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn("script", ["-qec", command, "/dev/null"], {
        cwd: repoRoot,
        env: { ...process.env, DATABASE_URL: database.url, PUBLIC_URL, NODE_ENV: "test" },
        stdio: ["pipe", "pipe", "pipe"],
      });
      let seen = "";
      let prompts = 0;
      child.stdout.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        const shown = seen.match(/Password \(12\+ characters\): |The same password again: /g)?.length ?? 0;
        while (prompts < shown && answers.length > 0) {
          prompts++;
          child.stdin.write(`${answers.shift()}\r`);
        }
      });
      child.on("error", reject);
      child.on("close", () => resolve(seen));
    });
    expect(output).toContain("Choose a stronger password: this one is on lists of common passwords");
    expect(output).toContain(`Created ops@marketplace.test (Olu Ops) as ADMIN. Sign in at ${PUBLIC_URL}/login`);
    // Typed while the prompt had echo off: the password never appears.
    expect(output).not.toContain(secret);
    const admin = await database.db.operator.findUniqueOrThrow({ where: { email: "ops@marketplace.test" } });
    expect(admin.role).toBe("ADMIN");
  });
});
