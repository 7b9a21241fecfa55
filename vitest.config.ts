import { defineConfig } from 'vitest/config';

/** Tests that restart the engine, fill a disk or kill shared processes: `*.alone.test.ts`, run last, one at a time. */
const ALONE = '**/*.alone.test.ts';

export default defineConfig({
  test: {
    // Docker-backed tests start real containers; give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'parallel',
          include: [
            'packages/*/src/**/*.test.ts',
            'packages/dashboard/test/*.test.ts',
            'test/**/*.test.ts',
            'images/**/*.test.ts',
          ],
          exclude: [ALONE, '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'alone',
          include: [`packages/*/src/${ALONE}`, `test/${ALONE}`],
          fileParallelism: false,
          testTimeout: 180_000,
        },
      },
    ],
  },
});
