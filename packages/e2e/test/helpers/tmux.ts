import { execFileSync, spawnSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

export const hasTmux = spawnSync("tmux", ["-V"]).status === 0;

/** A detached tmux session running `command` in a terminal of `columns` x `rows`. */
export class TmuxSession {
  constructor(
    readonly name: string,
    command: string,
    columns: number,
    rows: number,
  ) {
    execFileSync("tmux", [
      "new-session",
      "-d",
      "-s",
      name,
      "-x",
      String(columns),
      "-y",
      String(rows),
      command,
    ]);
  }

  /** What the terminal shows now. */
  screen(): string {
    return execFileSync("tmux", ["capture-pane", "-p", "-t", this.name], { encoding: "utf8" });
  }

  /** The screen once `test` holds (checked every 100 ms, 100 times at most). */
  async waitFor(what: string, test: (text: string) => boolean): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const text = this.screen();
      if (test(text)) return text;
      await sleep(100);
    }
    throw new Error(`the screen never showed ${what}:\n${this.screen()}`);
  }

  /** Type keys (tmux key names such as Enter work too). */
  send(...keys: string[]): void {
    execFileSync("tmux", ["send-keys", "-t", this.name, ...keys]);
  }

  kill(): void {
    spawnSync("tmux", ["kill-session", "-t", this.name]);
  }
}
