/**
 * Structured logs: one JSON object per line on stderr (or readable lines in a terminal). A line
 * written while a trace span is active carries its traceId and spanId.
 */
import { isSpanContextValid, trace } from "@opentelemetry/api";

export type Level = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(options: {
  format: "json" | "pretty";
  level?: Level;
  write?: (line: string) => void;
}): Logger {
  const min = ORDER[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const log = (level: Level, msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[level] < min) return;
    const time = new Date().toISOString();
    const span = trace.getActiveSpan()?.spanContext();
    if (span && isSpanContextValid(span)) fields = { ...fields, traceId: span.traceId, spanId: span.spanId };
    if (options.format === "json") write(`${JSON.stringify({ time, level, msg, ...fields })}\n`);
    else {
      const extra = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join(" ");
      write(`${time.slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? ` ${extra}` : ""}\n`);
    }
  };
  return {
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
