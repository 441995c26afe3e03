// A ticking "now" for relative times ("in 3 minutes") so they stay true while a page is open.
export class Clock {
  now = $state(Date.now());

  /** Starts ticking every `everyMs`; returns the function that stops. */
  start(everyMs = 30_000): () => void {
    this.now = Date.now();
    const timer = setInterval(() => {
      this.now = Date.now();
    }, everyMs);
    return () => clearInterval(timer);
  }
}
