// The clock, injectable: a dependency object may carry `now` (tests pin time with it); without
// one, the system's time.
export type Clock = () => Date;

/** The time now by the injected clock, else the system's. */
export const clock = (deps: { now?: Clock | undefined }): Date => deps.now?.() ?? new Date();
