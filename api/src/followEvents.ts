// Follows one event name on the bus for as long as the process needs it. A stream can end or fail
// (the bus broke, or the listener fell too far behind: sharedEventStreams cuts such a subscriber
// off); a listener that then stopped silently would leave this instance deaf to sign-outs and
// revocations from the others. So it subscribes again after a short pause, and first tells the
// caller that events may have been missed (`onGap`), so it can drop what those might have changed.
import type { EventBus, EventName, StewardEvents } from "@steward/core/ports/events";

/** How long to wait before subscribing again after a stream ended or failed. */
const RESUBSCRIBE_AFTER_MS = 100;

export function followEvents<Name extends EventName>(
  events: EventBus,
  name: Name,
  handlers: { onEvent: (event: StewardEvents[Name][0]) => void; onGap?: () => void },
): () => Promise<void> {
  let stopped = false;
  let stream: AsyncIterableIterator<StewardEvents[Name][0]> | undefined;
  void (async () => {
    while (!stopped) {
      stream = events.subscribe(name);
      try {
        for await (const event of stream) handlers.onEvent(event);
      } catch {
        // Handled as an ended stream, below.
      }
      if (stopped) break;
      handlers.onGap?.();
      await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_AFTER_MS).unref());
    }
  })();
  return async () => {
    stopped = true;
    await stream?.return?.();
  };
}
