/**
 * Prometheus metrics for the calls that run thousands of times a second
 * (Verify's duration and verdicts, cache lookups, the rate limiter's Redis
 * time, request durations). prom-client's own Histogram and Counter build a
 * label hash string, a closure and a value pair on every observation, and
 * look buckets up by number-keyed object properties: a tenth of what a
 * cached Verify allocated. These keep each label combination's counts in a
 * tree of Maps walked by the label values (nothing allocated once a
 * combination has been seen) and hand prom-client's registry the same
 * values its own metrics would at scrape time (`get()`), so /metrics reads
 * the same. test/contract/hot-metrics.test.ts compares both.
 */
import type { Registry } from "prom-client";

interface Series {
  labels: Record<string, string>;
  /** Observations per bucket (not cumulative); the last is above every bound. */
  buckets: number[];
  sum: number;
  count: number;
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
  /** prom-client's buckets carry one (null without exemplars). */
  exemplar?: null;
}

/** Label values → series, one Map level per label name. */
class SeriesTree {
  private readonly root = new Map<string, unknown>();
  readonly all: Series[] = [];

  constructor(
    private readonly labelNames: readonly string[],
    private readonly make: (labels: Record<string, string>) => Series,
  ) {}

  find(labels: Readonly<Record<string, string>> | undefined): Series {
    let node: Map<string, unknown> = this.root;
    const names = this.labelNames;
    for (let i = 0; i < names.length - 1; i++) {
      const value = labels?.[names[i] as string] ?? "";
      let next = node.get(value) as Map<string, unknown> | undefined;
      if (next === undefined) node.set(value, (next = new Map()));
      node = next;
    }
    const last = names.length === 0 ? "" : (labels?.[names[names.length - 1] as string] ?? "");
    let series = node.get(last) as Series | undefined;
    if (series === undefined) {
      // As prom-client keeps them: the first caller's labels, in its order.
      const own: Record<string, string> = {};
      for (const name in labels) if (names.includes(name)) own[name] = labels[name] as string;
      series = this.make(own);
      node.set(last, series);
      this.all.push(series);
    }
    return series;
  }

  clear(): void {
    this.root.clear();
    this.all.length = 0;
  }
}

interface HotOptions<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  registers: Registry[];
}

/** What both kinds share: a name, series by labels, a place in the registries. */
abstract class HotMetric<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = "sum";
  protected readonly tree: SeriesTree;

  constructor(options: HotOptions<L>, make: (labels: Record<string, string>) => Series) {
    this.name = options.name;
    this.help = options.help;
    this.tree = new SeriesTree(options.labelNames ?? [], make);
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  reset(): void {
    this.tree.clear();
  }
}

/** A histogram, observed as prom-client's `observe(labels, value)`. */
export class HotHistogram<L extends string = string> extends HotMetric<L> {
  readonly type = "histogram";

  constructor(
    options: HotOptions<L>,
    private readonly upperBounds: readonly number[],
  ) {
    super(options, (labels) => ({ labels, buckets: new Array<number>(upperBounds.length + 1).fill(0), sum: 0, count: 0 }));
  }

  observe(labels: Readonly<Partial<Record<L, string>>>, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const series = this.tree.find(labels as Record<string, string>);
    const bounds = this.upperBounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    (series.buckets[i] as number)++;
    series.sum += value;
    series.count++;
  }

  /** What prom-client's Histogram answers: cumulative buckets (`le` first), +Inf, sum and count per series. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }> {
    const values: MetricValue[] = [];
    for (const series of this.tree.all) {
      let cumulative = 0;
      this.upperBounds.forEach((bound, i) => {
        cumulative += series.buckets[i] as number;
        values.push({ labels: { le: bound, ...series.labels }, value: cumulative, metricName: `${this.name}_bucket`, exemplar: null });
      });
      values.push({ labels: { le: "+Inf", ...series.labels }, value: series.count, metricName: `${this.name}_bucket`, exemplar: null });
      values.push({ labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** A counter, counted as prom-client's `inc(labels?, value?)`. */
export class HotCounter<L extends string = string> extends HotMetric<L> {
  readonly type = "counter";

  constructor(options: HotOptions<L>) {
    super(options, (labels) => ({ labels, buckets: [], sum: 0, count: 0 }));
  }

  inc(labels?: Readonly<Partial<Record<L, string>>>, value = 1): void {
    if (!Number.isFinite(value) || value < 0) throw new Error(`It is not possible to decrease a counter: ${value}`);
    this.tree.find(labels as Record<string, string>).sum += value;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }> {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.tree.all.map((series) => ({ labels: { ...series.labels }, value: series.sum })),
    };
  }
}
