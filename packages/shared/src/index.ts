export * from "./api.js";
export * from "./canonical-json.js";
export * from "./errors.js";
export * from "./json-diff.js";
export * from "./key-glob.js";
export * from "./names.js";
export * from "./schema-validation.js";
