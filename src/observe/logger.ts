// Structured logs: pino, JSON lines on stderr (stdout is kept for command output such as the demo's
// summary), one shape everywhere: level, time, msg, plus the component and bound context.
import { type Logger, pino } from "pino";

export type { Logger };

export function createLogger(level: string, component: string): Logger {
  return pino({ level, base: { component }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}
