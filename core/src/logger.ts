import { pino, type Logger } from "pino";
import type { Env } from "./env.ts";

export type { Logger };

/**
 * Fields that hold credentials are censored wherever a log call puts them (an error's request,
 * a job's input), so a careless `logger.info({ input })` cannot write a password to disk.
 */
export const redactedPaths = [
  "password",
  "*.password",
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "*.headers.authorization",
  "cookie",
  "*.cookie",
  "*.headers.cookie",
  "*.headers['set-cookie']",
  "sessionToken",
  "*.sessionToken",
  "apiKey",
  "*.apiKey",
];

/** The level comes from the validated environment (or a test's choice), never from `process.env`. */
export function createLogger(name: string, level: Env["LOG_LEVEL"], destination?: pino.DestinationStream): Logger {
  const options = { name, level, redact: { paths: redactedPaths, censor: "[redacted]" } };
  return destination ? pino(options, destination) : pino(options);
}
