-- The sweeper lease, with a fencing epoch: one sweeper at a time, and a sweeper that lost its
-- lease (paused past its TTL) can tell, because the epoch moved on.
-- KEYS[1] the lease, KEYS[2] the epoch counter; ARGV[1] holder, ARGV[2] TTL in ms.
-- Returns the holder's epoch, or 0 when another holder has the lease.
local current = redis.call('GET', KEYS[1])
if not current then
  local epoch = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. epoch, 'PX', ARGV[2])
  return epoch
end
local holder, epoch = string.match(current, '^(.*) (%d+)$')
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(epoch)
end
return 0
