import { once } from "node:events";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createConnectionGate } from "./websocket.ts";

describe("the websocket connection gate", () => {
  it("does not count a socket that was reset while the rate limiter answered", async () => {
    let answerFirst: (() => void) | undefined;
    // The first attempt waits on "Redis" until the test lets it go; later ones pass at once.
    const limiter = () =>
      answerFirst === undefined
        ? new Promise<null>((resolve) => (answerFirst = () => resolve(null)))
        : Promise.resolve(null);
    const gate = createConnectionGate(limiter, 1);

    const reset = new PassThrough();
    const admitted = gate.admit("203.0.113.7", reset);
    reset.destroy();
    await once(reset, "close");
    answerFirst?.();
    expect(await admitted).toBeNull();

    // Its slot (the cap is one socket) is still free; the next socket then fills it.
    expect(await gate.admit("203.0.113.7", new PassThrough())).toBeNull();
    expect(await gate.admit("203.0.113.7", new PassThrough())).toBeGreaterThan(0);
  });
});
