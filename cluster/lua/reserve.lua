-- Reserve a place in a client's session index, atomically against the per-client limit,
-- so two racing create_session calls can never exceed it; and make create idempotent: a
-- request id seen before answers the session it created.
-- KEYS[1] the client's index, KEYS[2] the client's request id -> session id hash.
-- ARGV[1] new session id, ARGV[2] now (score), ARGV[3] limit, ARGV[4] request id ("" = none),
-- ARGV[5] seconds to remember request ids.
-- Returns {1, sid} when reserved, {0, ""} at the limit, {2, sid} for a request id seen before.
if ARGV[4] ~= '' then
  local prior = redis.call('HGET', KEYS[2], ARGV[4])
  if prior then return {2, prior} end
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return {0, ''} end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[4], ARGV[1])
  redis.call('EXPIRE', KEYS[2], ARGV[5])
end
return {1, ARGV[1]}
