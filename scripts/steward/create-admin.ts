// `npm run steward -- create-admin <email> [--name "Ada Admin"] [--setup-link]`: the first ADMIN of
// a new marketplace. On a terminal it asks for the password (nothing echoed); with --setup-link,
// or when stdin is not a terminal (a deploy script, CI), it prints a one-time link (24 h) where the
// admin chooses name and password. Refused while an active ADMIN exists: they invite people instead.
import { createInterface } from "node:readline/promises";
import { loadEnv } from "@steward/core/env";
import { DomainError } from "@steward/core/errors";
import { createFirstAdmin, createFirstAdminLink, normalizeEmail } from "@steward/core/operators";
import { passwordProblems, WeakPasswordError } from "@steward/core/passwords";
import { createPrismaClient } from "@steward/db/client";

export const summary = "Create the first ADMIN (asks for a password, or prints a one-time setup link)";

const USAGE = 'Usage: npm run steward -- create-admin <email> [--name "Full Name"] [--setup-link]';
const PASSWORD_TRIES = 3;

interface Options {
  email: string;
  name: string | null;
  setupLink: boolean;
}

function parse(args: readonly string[]): Options | string {
  let email: string | null = null;
  let name: string | null = null;
  let setupLink = false;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === "--setup-link") setupLink = true;
    else if (arg === "--name") name = args[++index] ?? "";
    else if (arg.startsWith("--name=")) name = arg.slice("--name=".length);
    else if (arg.startsWith("-")) return `Unknown option ${arg}`;
    else if (email === null) email = arg;
    else return `Unexpected argument ${arg}`;
  }
  if (!email) return "Give the admin's email address";
  if (name !== null && name.trim() === "") return "--name needs a value";
  return { email, name, setupLink };
}

/** Reads a line from the terminal without echoing it. */
function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stdout.write("\n");
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n") {
          finish();
          return resolve(value);
        }
        if (char === "\u0003" || char === "\u0004") {
          finish();
          return reject(new Error("Cancelled"));
        }
        if (char === "\u007f" || char === "\b") value = value.slice(0, -1);
        else value += char;
      }
    };
    // Echo off before the prompt shows, so nothing typed after it can appear.
    stdin.setEncoding("utf8");
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
    process.stdout.write(prompt);
  });
}

async function askName(email: string): Promise<string> {
  const suggested = email.split("@")[0]!;
  const lines = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await lines.question(`Name [${suggested}]: `);
    return answer.trim() || suggested;
  } finally {
    lines.close();
  }
}

async function askPassword(email: string): Promise<string | null> {
  for (let attempt = 1; attempt <= PASSWORD_TRIES; attempt++) {
    const password = await readHidden("Password (12+ characters): ");
    const problems = passwordProblems(password, email);
    if (problems.length > 0) {
      console.error(new WeakPasswordError(problems).message);
      continue;
    }
    if ((await readHidden("The same password again: ")) === password) return password;
    console.error("The two passwords differ.");
  }
  return null;
}

export async function run(args: readonly string[]): Promise<number> {
  const options = parse(args);
  if (typeof options === "string") {
    console.error(`${options}.\n${USAGE}`);
    return 2;
  }
  const env = loadEnv();
  const db = createPrismaClient(env.DATABASE_URL, 1);
  try {
    const email = normalizeEmail(options.email);
    // Checked again under a lock when the admin is created; here only to fail before any question.
    const admins = await db.operator.findMany({ where: { role: "ADMIN", disabledAt: null }, select: { email: true } });
    if (admins.length > 0) {
      console.error(
        `Refused: Steward already has an active admin (${admins.map((admin) => admin.email).join(", ")}). ` +
          "They invite more people from the Operators page; nothing was changed.",
      );
      return 1;
    }
    if (options.setupLink || !process.stdin.isTTY) {
      const link = await createFirstAdminLink(db, { email }, { publicUrl: env.PUBLIC_URL });
      console.log(`Setup link for ${email} (works once, until ${link.expiresAt.toISOString()}):`);
      console.log(`  ${link.url}`);
      console.log("Open it to choose the admin's name and password, then sign in.");
      return 0;
    }
    const name = options.name ?? (await askName(email));
    const password = await askPassword(email);
    if (password === null) {
      console.error("No admin created: no acceptable password was given.");
      return 1;
    }
    const admin = await createFirstAdmin(db, { email, name, password });
    console.log(`Created ${admin.email} (${admin.name}) as ADMIN. Sign in at ${env.PUBLIC_URL}/login`);
    return 0;
  } catch (error) {
    if (error instanceof DomainError) {
      console.error(`Refused: ${error.message}. Nothing was changed.`);
      return 1;
    }
    throw error;
  } finally {
    await db.$disconnect();
  }
}
