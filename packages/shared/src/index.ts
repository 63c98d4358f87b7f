export * from "./api.js";
export * from "./canonical-json.js";
export * from "./errors.js";
export * from "./json-diff.js";
export * from "./key-glob.js";
export * from "./names.js";
// NB: schema validation (ajv) is a separate entry point, "@cfguardian/shared/schema-validation",
// so that importing the contract does not load a JSON Schema compiler.
export type { CompiledSchemaSet, SchemaBinding } from "./schema-validation.js";
