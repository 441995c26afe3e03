import { DEFAULT_WEBHOOK_SECRET, startNotifySandbox } from "./server.ts";

const sandbox = await startNotifySandbox({
  port: Number(process.env.NOTIFY_SANDBOX_PORT ?? 12114),
  webhookSecret: process.env.NOTIFY_SANDBOX_WEBHOOK_SECRET ?? DEFAULT_WEBHOOK_SECRET,
});
console.log(
  `Notification receivers (Slack, PagerDuty, ticket webhook) on ${sandbox.url}; what arrived: ${sandbox.url}/_sandbox/received`,
);
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => void sandbox.stop().then(() => process.exit(0)));
