// Turns DATABASE_URL into discrete pg options. The migration adapter needs discrete options
// (a connection string would override the shadow database's name), and the app uses the same.
export const DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/steward";

export interface DatabaseConnectionOptions {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
}

export function databaseConnectionOptions(
  url: string = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
): DatabaseConnectionOptions {
  const parsed = new URL(url);
  const options: DatabaseConnectionOptions = {
    host: decodeURIComponent(parsed.hostname) || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 5432,
    user: decodeURIComponent(parsed.username) || "postgres",
    database: decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "steward",
  };
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  return options;
}
