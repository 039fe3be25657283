import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // Starts Redis + FerretDB once per run; see test/setup/servers.ts.
    globalSetup: ['test/setup/global-setup.ts'],
    // Child processes rather than worker threads: tests spawn servers, and a
    // server's parent-death signal is tied to the spawning thread.
    pool: 'forks',
    testTimeout: 20_000,
    // beforeAll hooks may start private servers and seed data.
    hookTimeout: 60_000,
  },
});
