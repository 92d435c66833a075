import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'connectors/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Store tests open real DuckDB files and a real PostgreSQL database: keep files in separate
    // processes but not too many at once on a 2-core machine.
    pool: 'forks',
    maxWorkers: 2,
  },
});
