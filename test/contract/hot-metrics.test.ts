import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { HotCounter, HotHistogram } from "../../src/hot-metrics.js";
import { seededRandom } from "../support/seeded-random.js";

const BOUNDS = [0.0001, 0.001, 0.01, 0.1, 1];

/** The same observations on prom-client's metrics and on ours, each in a registry of its own. */
function both(seed: number) {
  const theirs = new Registry();
  const ours = new Registry();
  const options = (registry: Registry) => ({ name: "x_seconds", help: "x", labelNames: ["transport", "code"] as const, registers: [registry] });
  const counts = (registry: Registry) => ({ name: "x_total", help: "y", labelNames: ["code", "transport"] as const, registers: [registry] });
  const histogram = new Histogram({ ...options(theirs), labelNames: ["transport", "code"], buckets: BOUNDS });
  const hot = new HotHistogram(options(ours), BOUNDS);
  const counter = new Counter({ ...counts(theirs), labelNames: ["code", "transport"] });
  const hotCounter = new HotCounter(counts(ours));
  const r = seededRandom(seed);
  for (let i = 0; i < 2000; i++) {
    const labels = { transport: r.pick(["rpc", "rest", "ext_authz"]), code: r.pick(["OK", "RATE_LIMITED", "a\"b\\c\nd"]) };
    // On the bounds, between them, past the last, and zero.
    const value = r.pick([0, ...BOUNDS, r.next() * 2, r.next() / 1000]);
    histogram.observe(labels, value);
    hot.observe(labels, value);
    const by = r.pick([1, 1, 2.5]);
    counter.inc(labels, by);
    hotCounter.inc(labels, by);
  }
  return { theirs, ours, hot, hotCounter };
}

describe("hot-path metrics", () => {
  it("scrape exactly as prom-client's Histogram and Counter after the same observations", async () => {
    for (const seed of [1, 2, 3]) {
      const { theirs, ours } = both(seed);
      expect(await ours.metrics()).toBe(await theirs.metrics());
      expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
    }
  });

  it("start again from nothing on reset, and refuse what prom-client refuses", async () => {
    const { theirs, ours, hot, hotCounter } = both(4);
    theirs.resetMetrics();
    ours.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(() => hot.observe({ transport: "rpc" }, Number.NaN)).toThrow(TypeError);
    expect(() => hotCounter.inc({ code: "OK" }, -1)).toThrow();
  });
});
