/**
 * The AuditLog contract: every adapter must pass the same suite, so the
 * embedded trail and MongoDB's cannot drift apart.
 */
import { randomUUID } from "node:crypto";
import { v7 as uuidv7 } from "uuid";
import { beforeEach, describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/domain/audit-event.js";
import type { AuditLog } from "../../src/ports/audit-log.js";

const T0 = Date.parse("2030-01-01T00:00:00.000Z");

export function sampleEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: uuidv7(),
    organizationId: "org-a",
    time: new Date(T0),
    action: "api_key.update",
    outcome: "allowed",
    actor: { type: "api_key", id: "key-actor" },
    target: { type: "api_key", id: "key-target" },
    changes: {
      scopes: { old: ["send"], new: ["send", "read"] },
      metadata: { old: {}, new: { team: "core" } },
      expiresAt: { old: null, new: "2031-01-01T00:00:00.000Z" },
      enabled: { old: true, new: false },
    },
    requestId: "req-1",
    clientIp: "203.0.113.7",
    reason: "",
    ...overrides,
  };
}

export function auditLogContract(name: string, open: () => Promise<AuditLog>): void {
  describe(`AuditLog contract: ${name}`, () => {
    let log: AuditLog;
    let org: string;
    /** Appends events one second apart from T0, in order; answers them. */
    const appendAt = async (count: number, overrides: (i: number) => Partial<AuditEvent> = () => ({})) => {
      const events: AuditEvent[] = [];
      for (let i = 0; i < count; i++) {
        const event = sampleEvent({ organizationId: org, time: new Date(T0 + i * 1000), ...overrides(i) });
        await log.append(event);
        events.push(event);
      }
      return events;
    };
    const ids = (events: readonly AuditEvent[]) => events.map((e) => e.id);

    beforeEach(async () => {
      log = await open();
      org = `org-${randomUUID()}`;
    });

    it("answers an appended event exactly as written", async () => {
      const event = sampleEvent({ organizationId: org, outcome: "denied", reason: "a test key cannot create a live key" });
      await log.append(event);
      expect(await log.list({ organizationId: org, limit: 10 })).toEqual([event]);
    });

    it("never replaces an event: appending an id twice fails and keeps the first", async () => {
      const event = sampleEvent({ organizationId: org });
      await log.append(event);
      await expect(log.append({ ...event, outcome: "denied" })).rejects.toMatchObject({ code: "failed_precondition" });
      expect(await log.list({ organizationId: org, limit: 10 })).toEqual([event]);
    });

    it("lists newest first, by time then id, and pages after a given event", async () => {
      const events = await appendAt(5);
      // Two events in the same millisecond: the larger id is the newer.
      const [a, b] = [uuidv7(), uuidv7()].sort();
      const same = new Date(T0 + 10_000);
      await log.append(sampleEvent({ organizationId: org, id: b as string, time: same }));
      await log.append(sampleEvent({ organizationId: org, id: a as string, time: same }));
      const all = await log.list({ organizationId: org, limit: 100 });
      expect(ids(all)).toEqual([b, a, ...ids(events).reverse()]);

      const first = await log.list({ organizationId: org, limit: 3 });
      expect(ids(first)).toEqual(ids(all.slice(0, 3)));
      const last = first.at(-1) as AuditEvent;
      const second = await log.list({ organizationId: org, limit: 3, after: { time: last.time, id: last.id } });
      expect(ids(second)).toEqual(ids(all.slice(3, 6)));
      const tail = second.at(-1) as AuditEvent;
      expect(await log.list({ organizationId: org, limit: 3, after: { time: tail.time, id: tail.id } })).toEqual(all.slice(6));
    });

    it("filters by action, actor, target and time range [start, end)", async () => {
      const events = await appendAt(6, (i) => ({
        action: i % 2 ? "api_key.create" : "api_key.revoke",
        actor: { type: "user", id: `user-${i % 3}` },
        target: { type: "api_key", id: `key-${i}` },
      }));
      const list = (query: object) => log.list({ organizationId: org, limit: 100, ...query }).then(ids);
      const pick = (...indexes: number[]) => indexes.map((i) => events[i]?.id);
      expect(await list({ action: "api_key.create" })).toEqual(pick(5, 3, 1));
      expect(await list({ actorId: "user-1" })).toEqual(pick(4, 1));
      expect(await list({ targetId: "key-2" })).toEqual(pick(2));
      expect(await list({ start: new Date(T0 + 2000), end: new Date(T0 + 4000) })).toEqual(pick(3, 2));
      expect(await list({ start: new Date(T0 + 4000) })).toEqual(pick(5, 4));
      expect(await list({ end: new Date(T0 + 1000) })).toEqual(pick(0));
      expect(await list({ action: "api_key.revoke", actorId: "user-0", end: new Date(T0 + 3000) })).toEqual(pick(0));
      expect(await list({ action: "organization.upsert" })).toEqual([]);
    });

    it("never shows another organization's events", async () => {
      await appendAt(2);
      const other = sampleEvent({ organizationId: `${org}-other` });
      await log.append(other);
      const mine = await log.list({ organizationId: org, limit: 100 });
      expect(mine).toHaveLength(2);
      expect(ids(mine)).not.toContain(other.id);
      expect(await log.list({ organizationId: `${org}-other`, limit: 100 })).toEqual([other]);
      expect(await log.list({ organizationId: `${org}-nobody`, limit: 100 })).toEqual([]);
    });

    it("answers copies: changing an answered event changes nothing stored", async () => {
      const event = sampleEvent({ organizationId: org });
      await log.append(event);
      const [read] = await log.list({ organizationId: org, limit: 1 });
      (read as AuditEvent).outcome = "denied";
      (read as AuditEvent).changes["scopes"] = { old: null, new: null };
      expect(await log.list({ organizationId: org, limit: 1 })).toEqual([event]);
    });
  });
}
