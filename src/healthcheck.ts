/**
 * The image's HEALTHCHECK: asks this container's /readyz and exits 0 when it
 * answers 200, else 1. Node itself, so the image needs no curl.
 */
const port = process.env.KEYWARD_HTTP_PORT?.trim() || "8080";
const timeoutMs = 2_000;

try {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
  process.stdout.write(`readyz: ${res.status} ${await res.text()}\n`);
  process.exit(res.status === 200 ? 0 : 1);
} catch (error) {
  process.stdout.write(`readyz: no answer on port ${port} (${(error as Error).name})\n`);
  process.exit(1);
}
