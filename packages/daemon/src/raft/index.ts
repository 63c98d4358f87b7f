export * from "./confchange.js";
export * from "./errors.js";
export { RaftLog } from "./log.js";
export { RawNode } from "./raw-node.js";
export { MemoryStorage, type Storage, type WritableStorage } from "./storage.js";
export * from "./types.js";
