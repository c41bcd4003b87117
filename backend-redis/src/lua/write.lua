-- write: KEYS[1] = the key, ARGV[1..5] = one write (see the prelude). Returns
-- {'applied', held...} when the write went ahead, held being what the key held before
-- (nothing, {'item', version} or {'tombstone', version}), and {'refused', record...},
-- the record as it is (see reply_of), when it did not.
if #KEYS ~= 1 or #ARGV ~= 5 then
  fail('OPTIMIST_PROTOCOL', 'one key and five arguments expected')
end
local key = KEYS[1]
local record, new_ver = judge(key, 1)
if not new_ver then
  local reply = reply_of(key, record)
  table.insert(reply, 1, 'refused')
  return reply
end
apply(key, 1, record, new_ver)
local reply = held_of(record)
table.insert(reply, 1, 'applied')
return reply
