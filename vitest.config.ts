import { defineConfig } from 'vitest/config';

/**
 * Three reaches, one run: `*.test.ts` (pure units), `*.int.test.ts` (real
 * PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set, PGlite and the
 * in-process Redis otherwise) and `test/e2e/*.e2e.ts` (through the real gateway).
 */
export default defineConfig({
  // graphql 16 ships CJS (main) and ESM (module) twins; Node loads the CJS one for
  // everybody, Vite would pick the ESM one for our code: two realms. Match Node.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Under SUPERGRAPH_FORBID_EMBEDDED=1 loading the in-process Redis fails the test (real components only).
    setupFiles: ['testing/src/forbid-embedded.setup.ts'],
    // Without DATABASE_URL, one line says which PostgreSQL-only tests were skipped.
    globalSetup: ['testing/src/skip-notice.global-setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['**/src/**/*.test.ts', 'test/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: { name: 'integration', include: ['**/*.int.test.ts'], exclude: ['**/node_modules/**'] },
      },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.e2e.ts'] } },
    ],
  },
});
