import { SpanStatusCode } from "@opentelemetry/api";
import type { Proposer } from "../log/proposer.js";
import type { ApplyOutcome, Command } from "../state/commands.js";
import type { Metrics } from "./metrics.js";
import { tracer, tracingOn } from "./tracer.js";

/**
 * The Proposer port with metrics and a trace span around each proposal: from propose to the
 * outcome (committed and applied on this node, refused, or failed).
 */
export class InstrumentedProposer implements Proposer {
  constructor(
    private readonly inner: Proposer,
    private readonly metrics: Metrics,
  ) {}

  propose(command: Command): Promise<ApplyOutcome> {
    if (!tracingOn()) return this.measured(command);
    return tracer().startActiveSpan(
      "cfgd.propose",
      { attributes: { "cfg.command.type": command.type, "cfg.command.id": command.meta.id } },
      async (span) => {
        try {
          const outcome = await this.measured(command);
          span.setAttribute("cfg.command.result", outcome.ok ? "ok" : outcome.code);
          return outcome;
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  /** The proposal with its metrics (and no span: see propose). */
  private async measured(command: Command): Promise<ApplyOutcome> {
    const started = performance.now();
    try {
      const outcome = await this.inner.propose(command);
      this.metrics.proposed(
        command.type,
        outcome.ok ? "ok" : outcome.code,
        (performance.now() - started) / 1000,
      );
      return outcome;
    } catch (error) {
      const code = (error as { code?: string }).code ?? "error";
      this.metrics.proposed(command.type, code, (performance.now() - started) / 1000);
      throw error;
    }
  }

  readBarrier(): Promise<number> {
    if (!tracingOn()) return this.inner.readBarrier();
    return tracer().startActiveSpan("cfgd.read-index", async (span) => {
      try {
        const index = await this.inner.readBarrier();
        span.setAttribute("raft.read_index", index);
        return index;
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  appliedIndex(): number {
    return this.inner.appliedIndex();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
