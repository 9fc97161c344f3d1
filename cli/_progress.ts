// The progress line send-file and recv-file draw on a terminal.

import { encoder } from "./_io.ts";

/**
 * A progress line on stderr, redrawn in place with \r; silent unless stderr is a terminal.
 *
 * @example
 * ```ts
 * import { Progress } from "./_progress.ts";
 * import { equal } from "node:assert/strict";
 *
 * const progress = new Progress("photo.jpg", 2048);
 * progress.update(1024);
 * progress.update(2048);
 * progress.finish();
 * equal(progress.done, 2048);
 * ```
 */
export class Progress {
  #label: string;
  #total: number;
  #start = performance.now();
  #drawn = -Infinity;
  #done = 0;
  #enabled = Deno.stderr.isTerminal();

  /**
   * Starts the clock; nothing is drawn until the first {@linkcode Progress.update}.
   *
   * @param label What is being moved, printed first (a file name).
   * @param total The bytes expected in all.
   */
  constructor(label: string, total: number) {
    this.#label = label;
    this.#total = total;
  }

  /** The bytes done so far, as last given to {@linkcode Progress.update}. */
  get done(): number {
    return this.#done;
  }

  /**
   * Records `done` bytes moved so far, redrawing at most ten times a second.
   *
   * @param done The bytes moved so far.
   */
  update(done: number): void {
    this.#done = done;
    const now = performance.now();
    // Redraw at most ten times a second: a terminal write per chunk would
    // cost more than the chunk.
    if (!this.#enabled || now - this.#drawn < 100) return;
    this.#drawn = now;
    this.#draw(now);
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    if (!this.#enabled) return;
    this.#draw(performance.now());
    Deno.stderr.writeSync(encoder.encode("\n"));
  }

  #draw(now: number): void {
    const seconds = Math.max((now - this.#start) / 1000, 0.001);
    const percent = this.#total === 0 ? 100 : Math.floor((this.#done / this.#total) * 100);
    const line = `\r${this.#label}: ${formatBytes(this.#done)} / ${formatBytes(this.#total)}` +
      `  ${percent}%  ${formatBytes(this.#done / seconds)}/s\x1b[K`;
    Deno.stderr.writeSync(encoder.encode(line));
  }
}

/**
 * A byte count for people: `512 B`, `12.0 MiB`.
 *
 * @param n The bytes (or bytes a second).
 * @returns The count in the largest binary unit that keeps it at 1 or more.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./_progress.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(formatBytes(512), "512 B");
 * equal(formatBytes(12 * 1024 ** 2), "12.0 MiB");
 * ```
 */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let unit = 0;
  for (; n >= 1024 && unit < units.length - 1; unit++) n /= 1024;
  return unit === 0 ? `${Math.round(n)} B` : `${n.toFixed(1)} ${units[unit]}`;
}
