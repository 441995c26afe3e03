// A cron pattern in words, for the common shapes the catalog uses ("Daily at 02:00", "Every 15
// minutes", "Every 2 seconds"); null for anything else (the pattern itself is always shown too).

const STEP = /^\*\/(\d+)$/;
const NUMBER = /^\d+$/;

function plural(count: number, unit: string): string {
  return count === 1 ? `Every ${unit}` : `Every ${count} ${unit}s`;
}

export function describeCron(pattern: string): string | null {
  const fields = pattern.trim().split(/\s+/);
  if (fields.length === 6) {
    // BullMQ's optional leading seconds field.
    const [seconds, ...rest] = fields as [string, ...string[]];
    if (rest.every((field) => field === "*")) {
      if (seconds === "*") return "Every second";
      const step = STEP.exec(seconds);
      if (step) return plural(Number(step[1]), "second");
    }
    if (seconds !== "0") return null;
    return describeCron(rest.join(" "));
  }
  if (fields.length !== 5) return null;
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string];
  if (dayOfMonth !== "*" || month !== "*" || dayOfWeek !== "*") return null;
  if (hour === "*") {
    if (minute === "*") return "Every minute";
    const step = STEP.exec(minute);
    if (step) return plural(Number(step[1]), "minute");
    if (NUMBER.test(minute)) return `Hourly at minute ${Number(minute)}`;
    return null;
  }
  if (NUMBER.test(minute) && NUMBER.test(hour)) {
    return `Daily at ${hour.padStart(2, "0")}:${minute.padStart(2, "0")}`;
  }
  return null;
}
