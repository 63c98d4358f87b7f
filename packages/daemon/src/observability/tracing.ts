/**
 * Tracing: spans are made through @opentelemetry/api everywhere (HTTP handling, forwarding to the
 * leader, propose -> commit -> apply, storage). They are exported only when the standard OTEL_*
 * variables ask for it (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
 * OTEL_TRACES_EXPORTER; OTEL_SDK_DISABLED=true turns it off); then the OpenTelemetry Node SDK is
 * loaded and configured by those variables (protocol, headers, sampler, batch delays). Otherwise
 * nothing is loaded and every span is a no-op.
 */
import type { Logger } from "../logger.js";
import { markTracingStarted } from "./tracer.js";

export function tracingWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === "true") return false;
  if (env.OTEL_TRACES_EXPORTER && env.OTEL_TRACES_EXPORTER !== "none") return true;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** Start the SDK when asked; returns the function that flushes and stops it. */
export async function startTracing(logger: Logger): Promise<() => Promise<void>> {
  if (!tracingWanted()) return async () => {};
  // Traces only: metrics are served at /metrics and logs go to stderr.
  process.env.OTEL_METRICS_EXPORTER ??= "none";
  process.env.OTEL_LOGS_EXPORTER ??= "none";
  process.env.OTEL_SERVICE_NAME ??= "cfgd";
  const { NodeSDK } = await import("@opentelemetry/sdk-node");
  const sdk = new NodeSDK({ instrumentations: [] });
  sdk.start();
  markTracingStarted();
  logger.info("tracing on", {
    exporter: process.env.OTEL_TRACES_EXPORTER ?? "otlp",
    endpoint: process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
    protocol: process.env.OTEL_EXPORTER_OTLP_PROTOCOL ?? "http/protobuf",
  });
  return async () => {
    try {
      await sdk.shutdown();
    } catch (error) {
      logger.warn("tracing shutdown failed", { error: (error as Error).message });
    }
  };
}
