export type { WatchEvent, WatchReset } from "@cfguardian/shared";
export type { CachedEntry } from "./cache.js";
export {
  type ClientOptions,
  ConfigClient,
  type ConfigValue,
  NotFoundError,
  RequestError,
  UnavailableError,
  type Watch,
  type WatchOptions,
} from "./client.js";
