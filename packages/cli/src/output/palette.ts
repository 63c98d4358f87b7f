/** Colours that collapse to plain text when colour is off (no TTY, NO_COLOR, --no-color). */
export interface Palette {
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

// NB: plain SGR codes, not util.styleText: styleText checks the stream itself on newer Node
// versions, and whether to colour is decided once, here, by colorEnabled().
const sgr = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

const ON: Palette = {
  green: sgr(32, 39),
  red: sgr(31, 39),
  yellow: sgr(33, 39),
  cyan: sgr(36, 39),
  dim: sgr(2, 22),
  bold: sgr(1, 22),
};

const identity = (text: string) => text;
const OFF: Palette = {
  green: identity,
  red: identity,
  yellow: identity,
  cyan: identity,
  dim: identity,
  bold: identity,
};

export function makePalette(enabled: boolean): Palette {
  return enabled ? ON : OFF;
}

/** Colour is on only on a terminal, and never with NO_COLOR or --no-color. */
export function colorEnabled(isTTY: boolean, env: NodeJS.ProcessEnv, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return isTTY;
}
