import { styleText } from "node:util";

type Style = Parameters<typeof styleText>[0];

/** Colours that collapse to plain text when colour is off (no TTY, NO_COLOR, --no-color). */
export interface Palette {
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

export function makePalette(enabled: boolean): Palette {
  const paint = (style: Style) => (text: string) => (enabled ? styleText(style, text) : text);
  return {
    green: paint("green"),
    red: paint("red"),
    yellow: paint("yellow"),
    cyan: paint("cyan"),
    dim: paint("dim"),
    bold: paint("bold"),
  };
}

/** Colour is on only on a terminal, and never with NO_COLOR or --no-color. */
export function colorEnabled(isTTY: boolean, env: NodeJS.ProcessEnv, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return isTTY;
}
