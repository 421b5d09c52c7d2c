import { defineConfig } from 'vitest/config';

// One configuration for every package and for the cross-package suites in test/.
// Tests import workspace packages by their TypeScript sources (the "source" export condition),
// so unit tests never need a build; suites that spawn the `paceline` binary need `npm run build`.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'src/**/*.test.ts', '*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
