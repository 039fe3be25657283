// Vitest global setup: one throwaway Redis and one MongoDB-compatible server
// (FerretDB, or MONGODB_URI if set) for the whole run, handed to tests through
// inject('redisUrl') / inject('mongoUri').
/// <reference path="./context.d.ts" />
import type { TestProject } from 'vitest/node';
import { startFerretDb, startRedis } from './servers.js';

interface Started {
  url: string;
  stop(): Promise<void>;
}

async function startMongo(): Promise<Started> {
  const fromEnv = process.env.MONGODB_URI?.trim();
  if (fromEnv) return { url: fromEnv, stop: async () => {} }; // not ours to stop
  const server = await startFerretDb();
  return { url: server.uri, stop: () => server.stop({ removeDir: true }) };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Start both at once. If either fails, stop whichever did start and fail the
  // run: a missing server is a broken test bed, never a reason to skip tests.
  const [redis, mongo] = await Promise.allSettled([startRedis(), startMongo()]);
  const started = [redis, mongo].flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const teardown = async (): Promise<void> => {
    await Promise.allSettled(started.map((s) => s.stop()));
  };

  if (redis.status === 'rejected' || mongo.status === 'rejected') {
    await teardown();
    const reasons = [redis, mongo].flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    const text = reasons.map((e) => (e instanceof Error ? e.message : String(e))).join('\n\n');
    throw new Error(`test servers failed to start:\n${text}`);
  }

  project.provide('redisUrl', redis.value.url);
  project.provide('mongoUri', mongo.value.url);
  return teardown;
}
