import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// One root vitest run for every package. `@cfguardian/shared` resolves to its sources so that
// unit tests never depend on a stale build; end-to-end tests spawn the built binaries.
export default defineConfig({
  resolve: {
    alias: [
      {
        find: "@cfguardian/shared/schema-validation",
        replacement: fileURLToPath(new URL("./packages/shared/src/schema-validation.ts", import.meta.url)),
      },
      {
        find: "@cfguardian/client",
        replacement: fileURLToPath(new URL("./packages/client/src/index.ts", import.meta.url)),
      },
      {
        find: "@cfguardian/shared",
        replacement: fileURLToPath(new URL("./packages/shared/src/index.ts", import.meta.url)),
      },
    ],
  },
  test: {
    include: ["packages/*/src/**/*.test.{ts,tsx}", "packages/*/test/**/*.test.{ts,tsx}"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    globalSetup: ["./vitest.global-setup.ts"],
  },
});
