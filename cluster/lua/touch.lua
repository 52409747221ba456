-- Sliding expiry of one session on a read, refused for an expired or another client's session.
-- KEYS[1] meta, KEYS[2] alive. ARGV[1] client id that must own the session, or hold a grant
-- in its `shares` field (a JSON object: client id -> "read"/"write"); "" = any.
-- Returns the new TTL in ms, -2 when the session is missing or expired, -1 when not owned,
-- -3 when the meta record is damaged (its timeout is not a number).
-- Only the liveness key moves: data keys are refreshed lazily by the store (see store.py).
if redis.call('EXISTS', KEYS[2]) == 0 then return -2 end
local fields = redis.call('HMGET', KEYS[1], 'client_id', 'timeout', 'shares')
if not fields[1] then return -2 end
if ARGV[1] ~= '' and fields[1] ~= ARGV[1] then
  if not fields[3] then return -1 end
  local ok, shares = pcall(cjson.decode, fields[3])
  if not ok or type(shares) ~= 'table' then return -1 end
  local rights = shares[ARGV[1]]
  if rights ~= 'read' and rights ~= 'write' then return -1 end
end
local timeout = tonumber(fields[2])
if not timeout then return -3 end
redis.call('PEXPIRE', KEYS[2], timeout * 1000)
return timeout * 1000
