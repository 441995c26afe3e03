import { startAiSandbox } from "./server.ts";

const sandbox = await startAiSandbox({ port: Number(process.env.AI_SANDBOX_PORT ?? 12112) });
console.log(
  `AI scoring sandbox listening on ${sandbox.url} (POST /_sandbox/mode {"mode":"down"} to simulate an outage)`,
);
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => void sandbox.stop().then(() => process.exit(0)));
