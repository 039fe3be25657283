/** The text of GET /metrics. */
export async function scrape(httpUrl: string): Promise<string> {
  const res = await fetch(`${httpUrl}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

/** The value of one sample, named with its labels as the text shows them (`name{a="b"}`); 0 when absent. */
export async function labelledValue(httpUrl: string, series: string): Promise<number> {
  const line = (await scrape(httpUrl)).split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** The value of one unlabelled sample in GET /metrics (0 when absent). */
export async function metricValue(httpUrl: string, name: string): Promise<number> {
  return labelledValue(httpUrl, name);
}
