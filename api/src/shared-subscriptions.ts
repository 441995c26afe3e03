// One event reaches every subscriber of this process (2,000 dashboards on one alert). graphql-tools
// runs the subscription's selection once per subscriber and event, and that execution (and its
// garbage) was most of the fan-out's cost. This plugin runs it once per event for all subscribers
// with the same document, variables and authorization. Each subscriber's own `subscribe` (with its
// authorization on subscribe) still runs as before, and results still pass every plugin (masking).
import { buildExecutionContext, buildResolveInfo, execute, getFieldDef } from "@graphql-tools/executor";
import { type DocumentNode, type ExecutionResult, type GraphQLResolveInfo, Kind, print } from "graphql";
import type { Plugin } from "graphql-yoga";

type SubscribeArgs = Parameters<typeof execute>[0];
type SubscribeFn = (args: SubscribeArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === "object" && value !== null && Symbol.asyncIterator in value;

/**
 * Events whose results are shared. Kept for as long as each event lived (a WeakMap), the results
 * stayed with every event a stalled subscriber still had queued (up to 1,024, sharedEventStreams.ts),
 * for every document any subscriber ran on them: memory a reader could multiply with documents.
 * A subscriber further behind executes the event itself (same result, its own cost).
 */
export const EVENTS_WITH_SHARED_RESULTS = 32;

/**
 * `authorization(context)` names what a subscriber may see (e.g. its role): subscribers with the
 * same name share results. `null` (unknown) keeps the subscriber on the per-subscriber path.
 */
export function sharedSubscriptionExecution<TContext extends object>(
  authorization: (context: TContext) => string | null,
): Plugin<TContext> {
  // Per event object (the bus hands every subscriber the same one), then per document text,
  // operation, variables and authorization; for the latest events only (oldest first out).
  const executions = new Map<object, Map<string, Promise<ExecutionResult>>>();
  const executeOnce = (args: SubscribeArgs, event: unknown, key: string): Promise<ExecutionResult> => {
    const run = async () => (await execute({ ...args, rootValue: event })) as ExecutionResult;
    if (typeof event !== "object" || event === null) return run();
    let byKey = executions.get(event);
    if (!byKey) {
      executions.set(event, (byKey = new Map<string, Promise<ExecutionResult>>()));
      if (executions.size > EVENTS_WITH_SHARED_RESULTS) executions.delete(executions.keys().next().value!);
    }
    let result = byKey.get(key);
    if (!result) byKey.set(key, (result = run()));
    return result;
  };

  return {
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const who = authorization(args.contextValue);
      if (who === null) return;
      setSubscribeFn(async (subscribeArgs: SubscribeArgs) => {
        const source = await sourceStream(subscribeArgs);
        // Anything unusual (errors, fragments, arguments): the stock path, which reports it as ever.
        if (!source) return (await subscribeFn(subscribeArgs)) as Awaited<ReturnType<SubscribeFn>>;
        const key = JSON.stringify([
          who,
          documentText(subscribeArgs.document),
          subscribeArgs.operationName ?? null,
          subscribeArgs.variableValues ?? null,
        ]);
        return mapEvents(source, (event) => executeOnce(subscribeArgs, event, key));
      });
    },
  };
}

// Printed once per parsed document (Yoga's parser cache hands out the same one for the same text).
const printed = new WeakMap<DocumentNode, string>();
function documentText(document: DocumentNode): string {
  let text = printed.get(document);
  if (text === undefined) printed.set(document, (text = print(document)));
  return text;
}

/**
 * The root field's event stream, as graphql-tools' `subscribe` creates it, for the plain case of
 * one root field without arguments or directives; `null` otherwise.
 */
async function sourceStream(args: SubscribeArgs): Promise<AsyncIterable<unknown> | null> {
  const context = buildExecutionContext(args);
  if (!("schema" in context)) return null;
  const rootType = context.schema.getSubscriptionType();
  const selections = context.operation.selectionSet.selections;
  const [field] = selections;
  if (!rootType || selections.length !== 1 || field?.kind !== Kind.FIELD) return null;
  if ((field.arguments?.length ?? 0) > 0 || (field.directives?.length ?? 0) > 0) return null;
  const fieldDef = getFieldDef(context.schema, rootType, field);
  if (!fieldDef?.subscribe) return null;
  const responseName = field.alias?.value ?? field.name.value;
  const info: GraphQLResolveInfo = buildResolveInfo(context, fieldDef, [field], rootType, {
    prev: undefined,
    key: responseName,
    typename: rootType.name,
  });
  try {
    const stream: unknown = await fieldDef.subscribe(context.rootValue, {}, context.contextValue, info);
    if (isAsyncIterable(stream)) return stream;
    return null;
  } catch {
    return null;
  }
}

/** The source's events mapped to results; returning (the client left) ends the source too. */
function mapEvents(
  source: AsyncIterable<unknown>,
  map: (event: unknown) => Promise<ExecutionResult>,
): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  const done = async (): Promise<IteratorResult<ExecutionResult>> => {
    await iterator.return?.();
    return { value: undefined, done: true };
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      const next = await iterator.next();
      if (next.done) return { value: undefined, done: true };
      return { value: await map(next.value), done: false };
    },
    return: done,
    async throw(error: unknown) {
      await iterator.return?.();
      throw error;
    },
  };
}
