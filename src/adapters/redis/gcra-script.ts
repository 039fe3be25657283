/**
 * The rate-limit algorithm of src/domain/leaky-bucket.ts (GCRA as a leaky
 * bucket used as a meter), in Lua so that Redis runs the decisions
 * atomically: one round trip, no lost updates between replicas. The
 * arithmetic mirrors `meter()` line for line; keep them in step.
 *
 * One call decides a batch: every decision the process asked for since its
 * last call, in the order asked, at one instant of Redis's clock — what the
 * same decisions sent one by one would give if no time passed between them.
 * Each pool is read once and written once, whatever its share of the batch.
 *
 * KEYS     the pools' hashes: `level` (units in the bucket) at `at` (ms)
 * ARGV     per decision, four values: the pool's index in KEYS (1-based),
 *          limit, windowMs, cost
 * returns  per decision, four integers: allowed (0|1), remaining, resetMs,
 *          retryAfterMs
 */
export const GCRA_LUA = `
-- Redis < 5 replicates scripts verbatim, and TIME would differ on replicas.
if redis.replicate_commands then redis.replicate_commands() end

local EPSILON = 1e-9

-- Redis's clock, not the caller's: every replica of keyward agrees on it.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000

-- Each pool as stored: level and time of the last charge (false: empty).
local stored = {}
for k = 1, #KEYS do
  local state = redis.call('HMGET', KEYS[k], 'level', 'at')
  if state[1] and state[2] then
    stored[k] = { tonumber(state[1]), tonumber(state[2]) }
  else
    stored[k] = false
  end
end

-- Levels as of now: the first decision on a pool drains it by its own
-- plan; the later ones in the batch see no time pass.
local level = {}
local charged = {}
local out = {}
for d = 1, #ARGV, 4 do
  local k = tonumber(ARGV[d])
  local limit = tonumber(ARGV[d + 1])
  local window = tonumber(ARGV[d + 2])
  local cost = tonumber(ARGV[d + 3])
  if level[k] == nil then
    level[k] = 0
    local state = stored[k]
    if state then
      local elapsed = math.max(0, now - state[2])
      level[k] = math.max(0, state[1] - (elapsed * limit) / window)
    end
  end
  local current = level[k]
  local allowed = current + cost <= limit + EPSILON
  local after = current
  if allowed then after = current + cost end
  local msPerUnit = window / limit
  local remaining = math.max(0, math.floor(limit - after + EPSILON))
  local reset = math.ceil(after * msPerUnit - EPSILON)
  local retry = 0
  if not allowed then
    retry = math.max(1, math.ceil((current + cost - limit) * msPerUnit - EPSILON))
  end
  -- A denied request charges nothing, so only an allowed one changes the pool.
  if allowed then
    level[k] = after
    charged[k] = reset
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
  out[#out + 1] = remaining
  out[#out + 1] = reset
  out[#out + 1] = retry
end

-- %.17g keeps every bit of the double; the key expires once the bucket is
-- empty (as the last allowed decision on it computed).
for k, reset in pairs(charged) do
  redis.call('HSET', KEYS[k], 'level', string.format('%.17g', level[k]), 'at', string.format('%.17g', now))
  redis.call('PEXPIRE', KEYS[k], reset + 1)
end

return out
`;
