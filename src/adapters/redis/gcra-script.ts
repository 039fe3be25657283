/**
 * The rate-limit algorithm of src/domain/leaky-bucket.ts (GCRA as a leaky
 * bucket used as a meter), in Lua so that Redis runs each decision
 * atomically: one round trip, no lost updates between replicas. The
 * arithmetic mirrors `meter()` line for line; keep them in step.
 *
 * KEYS[1]  the pool's hash: `level` (units in the bucket) at `at` (ms)
 * ARGV     limit, windowMs, cost
 * returns  {allowed (0|1), remaining, resetMs, retryAfterMs}, all integers
 */
export const GCRA_LUA = `
-- Redis < 5 replicates scripts verbatim, and TIME would differ on replicas.
if redis.replicate_commands then redis.replicate_commands() end

local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local EPSILON = 1e-9

-- Redis's clock, not the caller's: every replica of keyward agrees on it.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000

local state = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = 0
if state[1] and state[2] then
  local elapsed = math.max(0, now - tonumber(state[2]))
  level = math.max(0, tonumber(state[1]) - (elapsed * limit) / window)
end

local allowed = level + cost <= limit + EPSILON
local after = level
if allowed then after = level + cost end
local msPerUnit = window / limit
local remaining = math.max(0, math.floor(limit - after + EPSILON))
local reset = math.ceil(after * msPerUnit - EPSILON)
local retry = 0
if not allowed then
  retry = math.max(1, math.ceil((level + cost - limit) * msPerUnit - EPSILON))
end

-- A denied request charges nothing, so only an allowed one writes. %.17g
-- keeps every bit of the double; the key expires once the bucket is empty.
if allowed then
  redis.call('HSET', KEYS[1], 'level', string.format('%.17g', after), 'at', string.format('%.17g', now))
  redis.call('PEXPIRE', KEYS[1], reset + 1)
end

if allowed then return {1, remaining, reset, retry} end
return {0, remaining, reset, retry}
`;
