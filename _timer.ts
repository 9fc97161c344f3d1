// Timers for socket timeouts: JavaScript's setTimeout holds at most
// 2**31 - 1 ms (24.8 days) and fires after 1 ms past it (Node's
// TimeoutOverflowWarning), while CPython takes timeouts up to ~292 years.

// A longer delay is relayed in steps of at most this.
const MAX_TIMER_MS = 0x7fffffff;
/** A timer's handle, as `setTimeout` returns it. */
export type Timer = ReturnType<typeof setTimeout>;
// A relayed timer's first handle, which callers hold, to that of its current step.
const relays = new Map<Timer, Timer>();

/**
 * `setTimeout` for any delay a socket timeout can ask for (up to CPython's
 * ~292 years); cancel it with {@linkcode clearTimer}.
 */
export function setTimer(callback: () => void, ms: number): Timer {
  if (ms <= MAX_TIMER_MS) return setTimeout(callback, ms);
  const end = performance.now() + ms;
  const relay = () => {
    const left = end - performance.now();
    if (left <= 0) {
      relays.delete(first);
      callback();
    } else relays.set(first, setTimeout(relay, Math.min(left, MAX_TIMER_MS)));
  };
  const first = setTimeout(relay, MAX_TIMER_MS);
  relays.set(first, first);
  return first;
}

/** Cancels a timer from {@linkcode setTimer}; `undefined` does nothing. */
export function clearTimer(id: Timer | undefined): void {
  if (id === undefined) return;
  const step = relays.size === 0 ? undefined : relays.get(id);
  if (step !== undefined) relays.delete(id);
  clearTimeout(step ?? id);
}
