/** The value of one unlabelled sample in GET /metrics (0 when absent). */
export async function metricValue(httpUrl: string, name: string): Promise<number> {
  const res = await fetch(`${httpUrl}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const line = (await res.text()).split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}
