-- read_many: KEYS = the keys. Returns one record per key, in order (see read_record in
-- the prelude): {} for nothing, {version, token} for a tombstone, {version, token,
-- json} for an item. One script, so one round trip and one moment for every key.
local reply = {}
for i = 1, #KEYS do
  context = ' (key ' .. (i - 1) .. ')'
  reply[i] = read_record(KEYS[i])
end
return reply
