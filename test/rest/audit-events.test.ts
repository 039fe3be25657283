/**
 * GET /v1/audit-events over real HTTP: who may read the trail, newest-first
 * paging with Link and X-Next-Cursor, filters, bad parameters, and another
 * organization's events never visible.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestKeyward } from "../support/keyward.js";
import type { DashboardOrganization } from "./support.js";
import { dashboardOrganization, startRestKeyward } from "./support.js";

let service: TestKeyward;
let org: DashboardOrganization;
/** The key ids of five keys the user created, oldest first, and one it then renamed. */
let made: string[];

beforeAll(async () => {
  service = await startRestKeyward();
  org = await dashboardOrganization(service);
  made = [];
  for (let i = 0; i < 5; i++) made.push((await org.make({ name: `k${i}`, scopes: ["send"] })).id);
  expect((await org.user("PATCH", `/v1/api-keys/${made[0]}`, { json: { name: "renamed" } })).status).toBe(200);
});
afterAll(async () => {
  await service?.stop();
});

describe("GET /v1/audit-events", () => {
  it("is readable with audit:read, api_keys:read, api_keys:write, unscoped keys and users; not with other scopes", async () => {
    for (const scopes of [["audit:read"], ["api_keys:read"], ["api_keys:write"], []]) {
      const reader = await org.make({ name: "reader", scopes });
      const reply = await org.as(reader)("GET", "/v1/audit-events?limit=1");
      expect(reply.status, `${scopes}: ${reply.text}`).toBe(200);
      expect(reply.body).toHaveLength(1);
    }
    const sender = await org.make({ name: "sender", scopes: ["send", "read"] });
    const denied = await org.as(sender)("GET", "/v1/audit-events");
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe("insufficient_scope");
    expect(denied.headers.get("www-authenticate")).toContain('scope="audit:read"');
    // audit:read reads the trail, not the keys.
    const auditor = await org.make({ name: "auditor", scopes: ["audit:read"] });
    expect((await org.as(auditor)("GET", "/v1/api-keys")).status).toBe(403);
  });

  it("pages newest first through Link and X-Next-Cursor, keeping the filters", async () => {
    const seen: string[] = [];
    let path: string | null = "/v1/audit-events?action=api_key.create&actorId=" + org.userId + "&limit=2";
    let pages = 0;
    while (path) {
      const page = await org.user("GET", path);
      expect(page.status, page.text).toBe(200);
      seen.push(...page.body.map((e: { target: { id: string } }) => e.target.id));
      pages++;
      const link = page.headers.get("link");
      if (!link) {
        expect(page.headers.get("x-next-cursor")).toBeNull();
        break;
      }
      path = /^<([^>]+)>; rel="next"$/.exec(link)?.[1] ?? null;
      const next = new URL(path ?? "", "http://x").searchParams;
      expect(next.get("cursor")).toBe(page.headers.get("x-next-cursor"));
      expect(next.get("action")).toBe("api_key.create");
    }
    const created = seen.slice(seen.indexOf(made[4] ?? ""), seen.indexOf(made[0] ?? "") + 1);
    expect(created).toEqual([...made].reverse());
    expect(pages).toBeGreaterThan(2);
  });

  it("filters by action, actor, target and time range", async () => {
    const all = await org.events();
    const times = all.map((e) => Date.parse(e.time));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    const first = made[0] ?? "";
    expect((await org.events(`targetId=${first}`)).map((e) => e.action)).toEqual(["api_key.update", "api_key.create"]);
    expect((await org.events(`targetId=${first}&action=api_key.update`)).map((e) => e.changes)).toEqual([
      { name: { old: "k0", new: "renamed" } },
    ]);
    expect(await org.events(`actorId=${made[1]}`)).toEqual([]);

    const created = await org.events(`targetId=${made[2]}`);
    const at = created[0]?.time ?? "";
    expect((await org.events(`targetId=${made[2]}&start=${at}`)).map((e) => e.id)).toEqual(created.map((e) => e.id));
    expect(await org.events(`targetId=${made[2]}&end=${at}`)).toEqual([]);
    const window = await org.events(`start=${all.at(-1)?.time}&end=${new Date(Date.now() + 60_000).toISOString()}`);
    expect(window.map((e) => e.id)).toEqual(all.map((e) => e.id));
  });

  it("answers bad parameters with 400", async () => {
    for (const query of [
      "limit=0",
      "limit=101",
      "cursor=bm90LWEtY3Vyc29y",
      "action=api_key.explode",
      "start=yesterday",
      "end=2030-01-01",
      `start=2030-01-02T00:00:00Z&end=2030-01-01T00:00:00Z`,
      `actorId=${"x".repeat(257)}`,
      "targetId=",
      "outcome=denied",
      "action=api_key.create&action=api_key.roll",
    ]) {
      const reply = await org.user("GET", `/v1/audit-events?${query}`);
      expect(reply.status, `${query}: ${reply.text}`).toBe(400);
      expect(reply.headers.get("content-type")).toBe("application/problem+json");
    }
  });

  it("never shows another organization's events", async () => {
    const other = await dashboardOrganization(service);
    const theirs = await other.make({ name: "theirs" });
    const mine = await org.events();
    expect(mine.map((e) => e.organizationId)).toEqual(mine.map(() => org.organizationId));
    expect(mine.map((e) => e.target.id)).not.toContain(theirs.id);
    expect(await other.events(`targetId=${made[0]}`)).toEqual([]);
    // Its own: the key it made, and its registration (OrganizationService, by a service).
    expect((await other.events()).map((e) => [e.action, e.target.id, e.actor.type])).toEqual([
      ["api_key.create", theirs.id, "user"],
      ["organization.upsert", other.organizationId, "service"],
    ]);
  });
});
