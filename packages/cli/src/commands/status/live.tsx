import { render } from "ink";
import type { StatusReport } from "./collect.js";
import { StatusView } from "./view.js";

/**
 * The live terminal view (ink and React). Loaded only when a terminal asks for it: importing ink
 * takes most of a second, which every other cfg command would otherwise pay at start.
 */
export async function runLive(collect: () => Promise<StatusReport>, intervalMs: number): Promise<void> {
  const app = render(<StatusView collect={collect} intervalMs={intervalMs} />);
  await app.waitUntilExit();
}
