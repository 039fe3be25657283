/**
 * Every environment variable keyward reads (the README's configuration table
 * lists the same names: a test keeps the two equal), and the warning for a
 * `KEYWARD_*` variable that is none of them: a misspelled setting must not be
 * silently ignored.
 */
export const SERVICE_VARIABLES = [
  "KEYWARD_ENV",
  "KEYWARD_HOST",
  "KEYWARD_RPC_PORT",
  "KEYWARD_HTTP_PORT",
  "KEYWARD_CORS_ORIGINS",
  "KEYWARD_INTERNAL_TOKENS",
  "KEYWARD_TRUSTED_PROXIES",
  "KEYWARD_FORWARD_METADATA",
  "MONGODB_URI",
  "KEYWARD_MONGODB_DATABASE",
  "KEYWARD_MONGODB_TIMEOUT_MS",
  "KEYWARD_MONGODB_WRITE_CONCERN",
  "KEYWARD_MONGODB_READ_PREFERENCE",
  "REDIS_URL",
  "KEYWARD_REDIS_CLUSTER_NODES",
  "KEYWARD_REDIS_COMMAND_TIMEOUT_MS",
  "KEYWARD_RATE_LIMIT_DEFAULT",
  "KEYWARD_RATE_LIMIT_FAIL_CLOSED",
  "KEYWARD_ROUTE_POLICY_FILE",
  "KEYWARD_JWT_SECRET",
  "KEYWARD_JWT_JWKS_FILE",
  "KEYWARD_JWT_JWKS_URL",
  "KEYWARD_JWT_ORG_CLAIM",
  "KEYWARD_JWT_ISSUER",
  "KEYWARD_JWT_AUDIENCE",
  "KEYWARD_CACHE_MAX_ENTRIES",
  "KEYWARD_CACHE_TTL_MS",
  "KEYWARD_CACHE_NEGATIVE_TTL_MS",
  "KEYWARD_CACHE_MAX_STALE_MS",
  "KEYWARD_USAGE_FLUSH_MS",
  "KEYWARD_WORKERS",
  "KEYWARD_SHUTDOWN_GRACE_MS",
  "KEYWARD_SHUTDOWN_DRAIN_MS",
  "KEYWARD_MAX_CONNECTIONS",
  "KEYWARD_H2_MAX_CONCURRENT_STREAMS",
  "KEYWARD_IDLE_TIMEOUT_MS",
  "KEYWARD_REQUEST_TIMEOUT_MS",
  "KEYWARD_LOG_LEVEL",
] as const;

/** Read by the scripts and the CLI, not by the service. */
export const TOOL_VARIABLES = ["KEYWARD_NODE", "KEYWARD_RPC_URL", "KEYWARD_SERVICE_TOKEN"] as const;

const KNOWN: ReadonlySet<string> = new Set([...SERVICE_VARIABLES, ...TOOL_VARIABLES]);

/** One line per `KEYWARD_*` variable keyward does not know, naming the closest known one. */
export function unknownVariableWarnings(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith("KEYWARD_") && !KNOWN.has(name))
    .sort()
    .map((name) => {
      const closest = closestName(name);
      return `unknown variable ${name} is ignored${closest ? ` (did you mean ${closest}?)` : ""}`;
    });
}

function closestName(name: string): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const known of KNOWN) {
    const distance = editDistance(name, known);
    if (distance < bestDistance) [best, bestDistance] = [known, distance];
  }
  // Past a third of the name, the "closest" one is a guess, not a typo.
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}
