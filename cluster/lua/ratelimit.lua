-- A token bucket per client, in Redis so the limit holds across every node.
-- KEYS[1] the client's bucket hash; ARGV[1] rate (tokens/s), ARGV[2] burst, ARGV[3] now (s).
-- Returns 1 when the request may proceed, 0 when it is over the limit.
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return allowed
