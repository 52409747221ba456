-- Reserve a place in a client's session index, atomically against the per-client limit,
-- so two racing create_session calls can never exceed it.
-- KEYS[1] the client's index; ARGV[1] session id, ARGV[2] now (score), ARGV[3] limit.
-- Returns 1 when reserved, 0 when the client is at its limit.
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
