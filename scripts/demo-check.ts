// `npx tsx scripts/demo-check.ts`: the newcomer's first command, checked. Starts `npm run demo`
// exactly as the README says (through scripts/bootstrap.mjs) on a database that does not exist
// yet, waits for its banner, checks that /readyz answers 200 and that the dashboard is served,
// then stops it with Ctrl-C (SIGINT) and drops the database. CI runs it after `npm test`.
import { spawn } from "node:child_process";
import { dropDatabase } from "./lib/database.ts";
import { repoRoot, step } from "./lib/run.ts";
import { freePort } from "./lib/services.ts";

const base = new URL(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/steward");
base.pathname = `/steward_demo_check_${process.pid}`;
const databaseUrl = base.toString();
const apiPort = await freePort();
const apiUrl = `http://127.0.0.1:${apiPort}`;
const startTimeoutMs = 10 * 60_000;

const env = {
  ...process.env,
  DATABASE_URL: databaseUrl,
  REDIS_PREFIX: `demo-check-${process.pid}`,
  API_PORT: String(apiPort),
  STRIPE_SANDBOX_PORT: String(await freePort()),
  AI_SANDBOX_PORT: String(await freePort()),
  SMTP_SANDBOX_PORT: String(await freePort()),
  SMTP_SANDBOX_HTTP_PORT: String(await freePort()),
  NOTIFY_SANDBOX_PORT: String(await freePort()),
};

await dropDatabase(databaseUrl);
step(`Starting npm run demo on a new database (${base.pathname.slice(1)})`);
const demo = spawn("npm", ["run", "demo"], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
let output = "";
const banner = new Promise<void>((resolve, reject) => {
  const timer = setTimeout(
    () => reject(new Error(`no "Steward is running" within ${startTimeoutMs} ms`)),
    startTimeoutMs,
  );
  for (const stream of [demo.stdout, demo.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      output += chunk;
      if (output.includes("Steward is running.")) {
        clearTimeout(timer);
        resolve();
      }
    });
  }
  demo.once("exit", (code) => {
    clearTimeout(timer);
    reject(new Error(`npm run demo exited (code ${code}) before it was running`));
  });
});

const failures: string[] = [];
try {
  await banner;
  if (!output.includes(apiUrl)) failures.push(`the banner does not print the dashboard's address ${apiUrl}`);
  const ready = await fetch(`${apiUrl}/readyz`);
  if (ready.status !== 200) failures.push(`/readyz answered ${ready.status}`);
  const dashboard = await fetch(`${apiUrl}/`);
  const html = await dashboard.text();
  if (dashboard.status !== 200 || !html.includes("<html")) failures.push(`the dashboard answered ${dashboard.status}`);
  const login = await fetch(`${apiUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query: 'mutation { login(email: "operator@steward.test", password: "steward-demo-2026") { __typename } }',
    }),
  });
  const body = (await login.json()) as { data?: { login?: { __typename?: string } } };
  if (body.data?.login?.__typename !== "MutationLoginSuccess")
    failures.push(`the printed demo login did not sign in: ${JSON.stringify(body)}`);
} catch (error) {
  failures.push(error instanceof Error ? error.message : String(error));
} finally {
  const exited = new Promise<number | null>((resolve) => {
    if (demo.exitCode !== null) return resolve(demo.exitCode);
    demo.once("exit", (code) => resolve(code));
  });
  // Ctrl-C, as the README says: the demo stops everything it started.
  if (demo.pid && demo.exitCode === null) process.kill(-demo.pid, "SIGINT");
  const timer = setTimeout(() => demo.pid && process.kill(-demo.pid, "SIGKILL"), 30_000);
  await exited;
  clearTimeout(timer);
  await dropDatabase(databaseUrl);
}

if (failures.length > 0) {
  console.error(output);
  console.error(`✗ npm run demo: ${failures.join("; ")}`);
  process.exit(1);
}
step(`npm run demo served ${apiUrl}: /readyz 200, the dashboard, and the printed login; stopped with Ctrl-C`);
