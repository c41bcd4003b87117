-- write: KEYS[1] = the key, KEYS[2] = its partition's index, KEYS[3] = the partitions
-- set; ARGV[1..7] = one write (see the prelude). Returns {'applied', held...} when the
-- write went ahead, held being what the key held before (nothing, {'item', version}
-- or {'tombstone', version}), and {'refused', record...}, the record as it is (see
-- reply_of), when it did not.
if #KEYS ~= 3 or #ARGV ~= 7 then
  fail('OPTIMIST_PROTOCOL', 'three keys and seven arguments expected')
end
local key, index = KEYS[1], KEYS[2]
partitions = KEYS[3]
local record, new_ver = judge(key, 1)
if not new_ver then
  local reply = reply_of(key, record)
  table.insert(reply, 1, 'refused')
  return reply
end
local plan = index_change(index, 1, record, new_ver)
apply(key, 1, record, new_ver)
apply_index(index, 1, plan)
local reply = held_of(record)
table.insert(reply, 1, 'applied')
return reply
