import { createInterface } from "node:readline";
import { Writable } from "node:stream";

/** Read one line from the terminal; a secret is not echoed. */
export function askOnTerminal(question: string, secret: boolean): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve, reject) => {
    rl.on("SIGINT", () => {
      rl.close();
      reject(new Error("cancelled"));
    });
    rl.question(question, (answer) => {
      rl.close();
      if (secret) process.stderr.write("\n");
      resolve(answer);
    });
    muted = secret;
  });
}
