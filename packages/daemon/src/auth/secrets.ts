/**
 * Opaque secrets handed out once (API keys, refresh and CI tokens). Each has a prefix that says
 * what it is (and lets secret scanners find leaked ones); only its SHA-256 is stored.
 */
import { hash, randomBytes } from "node:crypto";

export const API_KEY_PREFIX = "cfgk_";
export const REFRESH_TOKEN_PREFIX = "cfgr_";
export const CI_TOKEN_PREFIX = "cfgc_";

export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

export function sha256Hex(text: string): string {
  return hash("sha256", text, "hex");
}
