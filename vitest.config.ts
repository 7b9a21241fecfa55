import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/dashboard/test/*.test.ts',
      'test/**/*.test.ts',
      'images/**/*.test.ts',
    ],
    // Docker-backed tests start real containers; give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
