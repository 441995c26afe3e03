// The JobQueue on BullMQ: one queue per workload (./contract.ts), keys under the stack's prefix so
// stacks can share one Redis. Used by the API (enqueue, run-now, pause/resume, queue sizes), by
// the worker (schedules, sweeps) and by scripts; the worker's own BullMQ Workers read these queues.
import {
  type ConnectionOptions,
  type DefaultJobOptions,
  type Job,
  type JobsOptions,
  type JobType,
  Queue,
} from "bullmq";
import { randomUUID } from "node:crypto";
import { type JobContract, type ResolvedContract, type Workload, WORKLOADS } from "./contract.ts";
import { contracts, type JobName, type JobPayload } from "./contracts.ts";
import type { EnqueueOptions, JobControl, JobData, JobQueue } from "./queue.ts";

export function connectionFor(redisUrl: string): ConnectionOptions {
  const url = new URL(redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    db: Number(url.pathname.replace("/", "") || 0),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    // BullMQ's workers must wait for Redis rather than fail a command during a reconnect.
    maxRetriesPerRequest: null,
  };
}

export const defaultJobOptions: DefaultJobOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 2_000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 1000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/** The BullMQ queue name of a workload (BullMQ refuses ':' in names). */
export const queueNameFor = (workload: Workload): string => `jobs-${workload}`;

/** Which queue a job name runs on: the catalog's contracts, plus any the caller adds (tests). */
export type JobRoute = Pick<JobContract, "name" | "queue">;

export interface BullJobQueuesOptions {
  redisUrl: string;
  prefix: string;
  /** Jobs outside the catalog (a test's own contracts) and the queue each runs on. */
  extraRoutes?: readonly JobRoute[];
  onError?: (error: Error) => void;
}

export type JobStateName = Awaited<ReturnType<Queue["getJobState"]>>;

export interface BullJobQueues extends JobQueue {
  /** The queue of a workload (opened on first use). */
  queue(workload: Workload): Queue<JobData>;
  /** The queue a job runs on; throws for a name it does not know. */
  queueOf(name: string): Queue<JobData>;
  /** Adds a run by name with raw data: run-now of any listed job, tests and drills. */
  add(name: string, data: JobData, options?: JobsOptions): Promise<Job<JobData>>;
  /** The job under this id, on whichever queue holds it. */
  getJob(jobId: string): Promise<Job<JobData> | undefined>;
  /** Its state, on whichever queue holds it ("unknown" when none does). */
  getJobState(jobId: string): Promise<JobStateName>;
  /** Creates or replaces the job's schedule. */
  upsertSchedule(contract: ResolvedContract): Promise<void>;
  removeSchedule(name: string): Promise<void>;
  /** The names of the schedules present in Redis. */
  scheduleNames(): Promise<string[]>;
  /** Jobs per workload and state (GET /metrics). */
  counts(...states: JobType[]): Promise<Map<Workload, Record<string, number>>>;
  /** Empties every queue (tests). */
  obliterate(): Promise<void>;
  close(): Promise<void>;
}

/**
 * An id for a run without a deterministic one. BullMQ numbers jobs per queue, so with one queue per
 * workload "1" would name a job on each; job runs are recorded by queue job id (unique with the
 * attempt), so every id must be unique across the queues.
 */
const uniqueJobId = (name: string): string => `${name}-${randomUUID()}`;

export function createBullJobQueues(options: BullJobQueuesOptions): BullJobQueues {
  const connection = connectionFor(options.redisUrl);
  const routes = new Map<string, Workload>(Object.values(contracts).map((contract) => [contract.name, contract.queue]));
  for (const route of options.extraRoutes ?? []) routes.set(route.name, route.queue);
  const open = new Map<Workload, Queue<JobData>>();

  function queue(workload: Workload): Queue<JobData> {
    let existing = open.get(workload);
    if (!existing) {
      existing = new Queue<JobData>(queueNameFor(workload), {
        connection,
        prefix: options.prefix,
        defaultJobOptions,
      });
      existing.on("error", (error) => options.onError?.(error));
      open.set(workload, existing);
    }
    return existing;
  }

  function queueOf(name: string): Queue<JobData> {
    const workload = routes.get(name);
    if (!workload) throw new Error(`No queue for job '${name}': it has no contract`);
    return queue(workload);
  }

  function prepare<Name extends JobName>(name: Name, payload: JobPayload<Name>, enqueueOptions: EnqueueOptions) {
    // Widened to the base contract: each contract's jobId takes its own payload's output.
    const contract: JobContract = contracts[name];
    const parsed: unknown = contract.payload.parse(payload);
    const jobId = contract.jobId?.(parsed);
    const data: JobData = {
      trigger: enqueueOptions.trigger ?? "EVENT",
      ...(enqueueOptions.triggeredById ? { triggeredById: enqueueOptions.triggeredById } : {}),
      payload: parsed,
    };
    const opts: JobsOptions = {
      jobId: jobId ?? uniqueJobId(name),
      ...(enqueueOptions.delayMs ? { delay: enqueueOptions.delayMs } : {}),
    };
    return { data, opts, jobId };
  }

  async function removeIfFinished(target: Queue<JobData>, jobId: string): Promise<void> {
    const existing = await target.getJob(jobId);
    const state = existing ? await existing.getState() : null;
    if (existing && (state === "failed" || state === "completed")) await existing.remove();
  }

  async function findJob(jobId: string): Promise<Job<JobData> | undefined> {
    for (const workload of WORKLOADS) {
      const job = await queue(workload).getJob(jobId);
      if (job) return job;
    }
    return undefined;
  }

  return {
    queue,
    queueOf,
    async enqueue(name, payload, enqueueOptions = {}) {
      const target = queueOf(name);
      const { data, opts, jobId } = prepare(name, payload, enqueueOptions);
      if (jobId && enqueueOptions.replaceFinished) await removeIfFinished(target, jobId);
      const job = await target.add(name, data, opts);
      return job.id ?? jobId ?? "";
    },
    async enqueueMany(name, payloads, enqueueOptions = {}) {
      if (payloads.length === 0) return;
      const target = queueOf(name);
      const jobs = payloads.map((payload) => ({ name, ...prepare(name, payload, enqueueOptions) }));
      if (enqueueOptions.replaceFinished)
        for (const job of jobs) if (job.jobId) await removeIfFinished(target, job.jobId);
      await target.addBulk(jobs.map(({ data, opts }) => ({ name, data, opts })));
    },
    async isActive(name, jobId) {
      const job = await queueOf(name).getJob(jobId);
      return (await job?.getState()) === "active";
    },
    add: (name, data, addOptions) =>
      queueOf(name).add(name, data, { ...addOptions, jobId: addOptions?.jobId ?? uniqueJobId(name) }),
    getJob: findJob,
    async getJobState(jobId) {
      const job = await findJob(jobId);
      return job ? await job.getState() : "unknown";
    },
    async upsertSchedule(contract) {
      if (!contract.schedule) return;
      await queueOf(contract.name).upsertJobScheduler(
        contract.name,
        { pattern: contract.schedule.pattern, tz: contract.schedule.tz },
        { name: contract.name, data: { trigger: "SCHEDULE" }, opts: defaultJobOptions },
      );
    },
    async removeSchedule(name) {
      await queueOf(name).removeJobScheduler(name);
    },
    async scheduleNames() {
      const names: string[] = [];
      for (const workload of WORKLOADS)
        for (const scheduler of await queue(workload).getJobSchedulers()) names.push(scheduler.key);
      return names;
    },
    async counts(...states) {
      const counts = new Map<Workload, Record<string, number>>();
      for (const workload of WORKLOADS) counts.set(workload, await queue(workload).getJobCounts(...states));
      return counts;
    },
    async obliterate() {
      for (const workload of WORKLOADS) await queue(workload).obliterate({ force: true });
    },
    async close() {
      await Promise.all([...open.values()].map((opened) => opened.close()));
      open.clear();
    },
  };
}

/** Operators' job control on these queues; `catalog` is the contracts resolved from the validated env. */
export function bullJobControl(queues: BullJobQueues, catalog: readonly ResolvedContract[]): JobControl {
  return {
    async runNow(name, triggeredById) {
      const job = await queues.add(name, { trigger: "MANUAL", ...(triggeredById ? { triggeredById } : {}) });
      return job.id ?? "";
    },
    removeSchedule: (name) => queues.removeSchedule(name),
    async restoreSchedule(name) {
      const contract = catalog.find((candidate) => candidate.name === name);
      if (contract) await queues.upsertSchedule(contract);
    },
  };
}
