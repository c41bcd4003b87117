-- purge: KEYS = keys of this store a SCAN step found, ARGV[1] = the bound in whole
-- milliseconds (rounded up). Removes each key that is, now, a tombstone left more than
-- the bound ago by the server's clock; anything else (an item, a younger tombstone,
-- a key written or gone since the SCAN, another type) stays as it is. Returns how
-- many it removed.
if #ARGV ~= 1 or not string.find(ARGV[1], '^%d+$') then
  fail('OPTIMIST_PROTOCOL', 'the bound in milliseconds expected')
end
local older_than = tonumber(ARGV[1])
local now = tonumber(now_ms())
local removed = 0
for i = 1, #KEYS do
  local key = KEYS[i]
  -- Checked here, not trusted from the SCAN: the key may have changed since.
  if redis.call('TYPE', key)['ok'] == 'hash' and redis.call('HEXISTS', key, 'v') == 0 then
    local fields = redis.call('HMGET', key, 'ver', 'del')
    local del = fields[2]
    -- Both clocks are truncated to the millisecond: an age above the rounded-up bound
    -- is an age above the bound.
    if fields[1] and del and string.find(del, '^%d+$') and now - tonumber(del) > older_than then
      redis.call('DEL', key)
      removed = removed + 1
    end
  end
end
return removed
