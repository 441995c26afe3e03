// Lint TypeScript with type information (floating promises are bugs in a job system).
// Svelte components are checked by svelte-check.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/generated/**",
      "web/.svelte-kit/**",
      "web/build/**",
      "**/dist/**",
      "**/*.svelte",
      "**/*.js",
      "**/*.mjs",
      "test-results/**",
      "playwright-report/**",
      "web/src/lib/graphql-env.d.ts",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  // Dependencies flow one way: web → api → core → (jobs, db) ← worker. A package may not import
  // one above it (the demo seed, which needs core, lives in scripts/seed, not in db).
  ...[
    { files: ["prisma/**/*.ts"], above: ["core", "jobs", "api", "worker"] },
    { files: ["jobs/**/*.ts"], above: ["core", "api", "worker"] },
    { files: ["core/**/*.ts"], above: ["api", "worker"] },
    { files: ["api/**/*.ts"], above: ["worker"] },
    { files: ["worker/**/*.ts"], above: ["api"] },
  ].map(({ files, above }) => ({
    files,
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: above.map((layer) => ({
            group: [`@steward/${layer}`, `@steward/${layer}/*`, `**/${layer}/src/*`],
            message: `This package sits below ${layer}: it may not import it.`,
          })),
        },
      ],
    },
  })),
);
