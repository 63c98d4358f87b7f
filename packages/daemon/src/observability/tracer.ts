import { type Tracer, trace } from "@opentelemetry/api";

/**
 * The tracer, looked up at each use. NB: not cached at module load: the SDK (loaded later, and as
 * CommonJS while this code is ESM) registers its provider through the API's global, which a tracer
 * taken before that would never see.
 */
export const tracer = (): Tracer => trace.getTracer("cfgd");

let started = false;

/**
 * Whether the OpenTelemetry SDK was started (startTracing). Without it every span is a no-op
 * (no context manager either, so no span is ever active): the hot paths (each HTTP request, each
 * proposal and apply) then skip making spans at all, which was a twelfth of a small request's CPU.
 */
export const tracingOn = (): boolean => started;

/** Called once the SDK is started. */
export function markTracingStarted(): void {
  started = true;
}
