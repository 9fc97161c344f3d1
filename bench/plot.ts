/**
 * The scale curves as an SVG, with no dependency: two panels side by side, echo round trips per
 * second and the server's peak RSS, against the number of concurrent connections on a log
 * scale, one line per column. bench/run.ts writes `bench/scale.svg` with it; run by hand it
 * redraws the plot from a results file:
 *
 *   deno run --allow-read --allow-write bench/plot.ts [bench/results.json] [bench/scale.svg]
 *
 * @module
 */

/** One column's curve. */
export interface Series {
  /** Legend text (the column's title). */
  name: string;
  /** One point per connection count, in increasing order. */
  points: { conns: number; rate: number; rssMiB: number }[];
}

const WIDTH = 860;
const HEIGHT = 384;
const PANEL = { width: 340, height: 250, top: 50, left: [70, 500] };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
const MARKS = ["circle", "square", "diamond", "triangle", "circle"] as const;

/**
 * Renders the curves.
 *
 * @param series The columns, each with its points.
 * @returns A standalone SVG document.
 */
export function scaleSvg(series: Series[]): string {
  const conns = [...new Set(series.flatMap((s) => s.points.map((p) => p.conns)))].sort((a, b) =>
    a - b
  );
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" ` +
    `viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
  ];
  const panels = [
    { title: "echo round trips per second (64 B)", pick: (p: Series["points"][0]) => p.rate },
    { title: "server peak RSS (MiB)", pick: (p: Series["points"][0]) => p.rssMiB },
  ];
  panels.forEach((panel, i) => {
    const left = PANEL.left[i];
    const top = PANEL.top;
    const yMax = niceCeiling(Math.max(...series.flatMap((s) => s.points.map(panel.pick)), 1));
    const x = (n: number) => left + logPosition(n, conns) * PANEL.width;
    const y = (v: number) => top + PANEL.height - (v / yMax) * PANEL.height;
    parts.push(
      `<text x="${left + PANEL.width / 2}" y="${top - 16}" text-anchor="middle" ` +
        `font-weight="bold">${escape(panel.title)}</text>`,
      `<rect x="${left}" y="${top}" width="${PANEL.width}" height="${PANEL.height}" ` +
        `fill="none" stroke="#999"/>`,
    );
    for (let k = 0; k <= 4; k++) {
      const v = (yMax * k) / 4;
      parts.push(
        `<line x1="${left}" x2="${left + PANEL.width}" y1="${y(v)}" y2="${y(v)}" ` +
          `stroke="#eee"/>`,
        `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${short(v)}</text>`,
      );
    }
    for (const n of conns) {
      parts.push(
        `<text x="${x(n)}" y="${top + PANEL.height + 18}" text-anchor="middle">` +
          `${n.toLocaleString("en-US")}</text>`,
      );
    }
    parts.push(
      `<text x="${left + PANEL.width / 2}" y="${top + PANEL.height + 36}" ` +
        `text-anchor="middle">concurrent connections (log scale)</text>`,
    );
    series.forEach((s, j) => {
      const color = COLORS[j % COLORS.length];
      const points = s.points.map((p) => [x(p.conns), y(panel.pick(p))] as const);
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${
          points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ")
        }"/>`,
        ...points.map(([px, py]) => mark(MARKS[j % MARKS.length], px, py, color)),
      );
    });
  });
  series.forEach((s, j) => {
    const lx = 70 + j * 200;
    const ly = HEIGHT - 10;
    parts.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" ` +
        `stroke="${COLORS[j % COLORS.length]}" stroke-width="2"/>`,
      mark(MARKS[j % MARKS.length], lx + 12, ly - 4, COLORS[j % COLORS.length]),
      `<text x="${lx + 30}" y="${ly}">${escape(s.name)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

/** Where `n` sits between the smallest and largest count, on a log scale (0 to 1). */
function logPosition(n: number, all: number[]): number {
  const lo = Math.log10(all[0]);
  const hi = Math.log10(all.at(-1)!);
  return hi === lo ? 0.5 : (Math.log10(n) - lo) / (hi - lo);
}

/** The smallest 1, 2, 2.5 or 5 times a power of ten at or above `x`. */
function niceCeiling(x: number): number {
  const power = 10 ** Math.floor(Math.log10(x));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= x) return step * power;
  return 10 * power;
}

function short(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(1)}`;
}

function mark(shape: (typeof MARKS)[number], x: number, y: number, color: string): string {
  const at = (dx: number, dy: number) => `${(x + dx).toFixed(1)},${(y + dy).toFixed(1)}`;
  if (shape === "square") {
    return `<rect x="${(x - 4).toFixed(1)}" y="${(y - 4).toFixed(1)}" width="8" height="8" ` +
      `fill="${color}"/>`;
  }
  if (shape === "diamond") {
    return `<polygon points="${at(0, -5)} ${at(5, 0)} ${at(0, 5)} ${at(-5, 0)}" fill="${color}"/>`;
  }
  if (shape === "triangle") {
    return `<polygon points="${at(0, -5)} ${at(5, 4)} ${at(-5, 4)}" fill="${color}"/>`;
  }
  return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="${color}"/>`;
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Redraws the plot from the `scale` series of a results.json that bench/run.ts wrote. */
async function main(): Promise<void> {
  const input = Deno.args[0] ?? new URL("results.json", import.meta.url).pathname;
  const output = Deno.args[1] ?? new URL("scale.svg", import.meta.url).pathname;
  const results = JSON.parse(await Deno.readTextFile(input)) as { scale?: Series[] };
  if (!results.scale?.length) throw new Error(`${input} has no scale curves`);
  await Deno.writeTextFile(output, scaleSvg(results.scale));
  console.log(`wrote ${output}`);
}

if (import.meta.main) await main();
