// Proves the scheduling path end to end: a run is recorded every minute and shows up live on the
// dashboard's Jobs page. Also measures how long a round trip to PostgreSQL takes from the worker.
import { heartbeatRound } from "@steward/core/jobHealth";
import { heartbeat } from "@steward/jobs/contracts";
import { handle } from "./definition.ts";

export const heartbeatJob = handle(heartbeat, ({ deps }) => heartbeatRound(deps.db));
