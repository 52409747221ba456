-- Sliding expiry of one session, refused for an expired session or another client's.
-- KEYS[1] meta, KEYS[2] alive, KEYS[3..] the other data keys.
-- ARGV[1] client id that must own the session ("" = any), ARGV[2] grace ms for data keys.
-- Returns the new TTL in ms, -2 when the session is missing or expired, -1 when not owned,
-- -3 when the meta record is damaged (its timeout is not a number).
if redis.call('EXISTS', KEYS[2]) == 0 then return -2 end
local owner = redis.call('HGET', KEYS[1], 'client_id')
if not owner then return -2 end
if ARGV[1] ~= '' and owner ~= ARGV[1] then return -1 end
local timeout = tonumber(redis.call('HGET', KEYS[1], 'timeout'))
if not timeout then return -3 end
local ttl = timeout * 1000
redis.call('PEXPIRE', KEYS[2], ttl)
local data_ttl = ttl + tonumber(ARGV[2])
redis.call('PEXPIRE', KEYS[1], data_ttl)
for i = 3, #KEYS do redis.call('PEXPIRE', KEYS[i], data_ttl) end
return ttl
