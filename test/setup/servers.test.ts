// Proves the test bed: the shared servers from global setup work, and private
// servers survive a stop/start on the same port (and, for FerretDB, data dir).
/// <reference path="./context.d.ts" />
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { describe, expect, inject, it, vi } from 'vitest';
import { existsSync } from 'node:fs';
import { startFerretDb, startRedis, startRedisCluster, type FerretDbServer, type RedisServer } from './servers.js';

interface Doc {
  _id: string;
  n: number;
}

describe('shared servers from global setup', () => {
  it('redis answers PING and SET/GET', async () => {
    const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
    try {
      expect(await redis.ping()).toBe('PONG');
      const key = `keyward:setup-test:${process.pid}`;
      await redis.set(key, 'value', 'EX', 60);
      expect(await redis.get(key)).toBe('value');
    } finally {
      redis.disconnect();
    }
  });

  it('mongo inserts and finds a document', async () => {
    const client = new MongoClient(inject('mongoUri'), { serverSelectionTimeoutMS: 5000 });
    // A database of its own, so a real MONGODB_URI server is left as it was.
    const db = client.db(`keyward_setup_test_${process.pid}`);
    try {
      const docs = db.collection<Doc>('docs');
      await docs.insertOne({ _id: 'a', n: 1 });
      expect(await docs.findOne({ _id: 'a' })).toEqual({ _id: 'a', n: 1 });
    } finally {
      await db.dropDatabase();
      await client.close();
    }
  });
});

describe('private servers', () => {
  it('FerretDB keeps its data across stop and start on the same port and dir', async () => {
    const first = await startFerretDb();
    let second: FerretDbServer | undefined;
    try {
      const writer = new MongoClient(first.uri, { serverSelectionTimeoutMS: 5000 });
      try {
        await writer.db('restart').collection<Doc>('docs').insertOne({ _id: 'kept', n: 42 });
      } finally {
        await writer.close();
      }
      await first.stop();

      second = await startFerretDb({ port: first.port, dir: first.dir });
      expect(second.uri).toBe(first.uri);
      const reader = new MongoClient(second.uri, { serverSelectionTimeoutMS: 5000 });
      try {
        const doc = await reader.db('restart').collection<Doc>('docs').findOne({ _id: 'kept' });
        expect(doc).toEqual({ _id: 'kept', n: 42 });
      } finally {
        await reader.close();
      }
    } finally {
      await second?.stop({ removeDir: true });
      await first.stop({ removeDir: true });
    }
  });

  it('redis: a stopped server fails commands; restarted on the same port, the client recovers', async () => {
    const first = await startRedis();
    let second: RedisServer | undefined;
    // Fail fast while down, but keep reconnecting, as the service's client would.
    const client = new Redis(first.url, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => 100,
      lazyConnect: true,
    });
    client.on('error', () => {}); // connection errors are expected here
    try {
      await client.connect(); // without an offline queue, commands need a live connection
      expect(await client.ping()).toBe('PONG');
      await first.stop();
      await expect(client.ping()).rejects.toThrow();

      second = await startRedis({ port: first.port });
      expect(second.url).toBe(first.url);
      await vi.waitFor(async () => expect(await client.ping()).toBe('PONG'), {
        timeout: 5000,
        interval: 100,
      });
    } finally {
      client.disconnect();
      await second?.stop();
      await first.stop();
    }
  });

  it('redis cluster: 3 masters with a replica each, all slots served, every process stopped and its dir removed', async () => {
    const cluster = await startRedisCluster();
    const client = new Redis(cluster.nodes[0]!.port, '127.0.0.1');
    try {
      expect(cluster.seeds.split(',')).toHaveLength(6);
      const lines = ((await client.cluster('NODES')) as string).trim().split('\n');
      const masters = lines.filter((l) => l.split(' ')[2]?.includes('master'));
      const replicas = lines.filter((l) => l.split(' ')[2]?.includes('slave'));
      expect([masters.length, replicas.length]).toEqual([3, 3]);
      // Each replica follows a different master.
      expect(new Set(replicas.map((l) => l.split(' ')[3])).size).toBe(3);
      expect(await client.cluster('INFO')).toMatch(/^cluster_slots_assigned:16384/m);
      const pids = cluster.nodes.map((n) => n.pid);
      const dirs = await Promise.all(
        cluster.nodes.map(async (n) => {
          const node = new Redis(n.port, '127.0.0.1');
          try {
            return ((await node.config('GET', 'dir')) as string[])[1] ?? '';
          } finally {
            node.disconnect();
          }
        }),
      );
      client.disconnect();
      await cluster.stop();
      for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
      for (const dir of dirs) expect(existsSync(dir)).toBe(false);
    } finally {
      client.disconnect();
      await cluster.stop();
    }
  });
});
