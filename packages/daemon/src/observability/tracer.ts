import { type Tracer, trace } from "@opentelemetry/api";

/**
 * The tracer, looked up at each use. NB: not cached at module load: the SDK (loaded later, and as
 * CommonJS while this code is ESM) registers its provider through the API's global, which a tracer
 * taken before that would never see.
 */
export const tracer = (): Tracer => trace.getTracer("cfgd");
