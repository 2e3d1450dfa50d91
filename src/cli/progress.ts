// What the long-running producing commands (simulate, replay) show while they run and when they end:
// a progress bar on stderr only when it is a terminal (pipes and logs stay clean), and one JSON summary
// line on stderr at the end for scripts.
import { SingleBar } from "cli-progress";

/** A cli-progress bar on stderr with the given format, or undefined when stderr is not a terminal. */
export function progressBar(format: string): SingleBar | undefined {
  if (process.stderr.isTTY !== true) return undefined;
  return new SingleBar({ stream: process.stderr, format, hideCursor: true });
}

/** Writes a line to stderr; over a live bar, clears the bar's line first (it redraws on its next update). */
export function printAbove(bar: SingleBar | undefined, line: string): void {
  process.stderr.write(bar === undefined ? `${line}\n` : `\r\x1b[2K${line}\n`);
}

/** Events per second, rounded, for the bar and the summary. */
export function perSecond(count: number, elapsedMs: number): number {
  return Math.round(count / Math.max(0.001, elapsedMs / 1000));
}

/** The closing JSON summary, one line on stderr. */
export function printSummary(summary: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify(summary)}\n`);
}
