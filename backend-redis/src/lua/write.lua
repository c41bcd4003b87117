-- write: KEYS[1] = the item, ARGV[1..5] = one write (see the prelude). Returns
-- {'applied'} or {'applied', previous version} when the write went ahead, and
-- {'refused'} or {'refused', json, version}, the item as it is, when it did not.
if #KEYS ~= 1 or #ARGV ~= 5 then
  fail('OPTIMIST_PROTOCOL', 'one key and five arguments expected')
end
local key = KEYS[1]
local ver, new_ver = judge(key, 1)
if not new_ver then
  local reply = item_of(key, ver)
  table.insert(reply, 1, 'refused')
  return reply
end
apply(key, 1, ver, new_ver)
if ver then
  return {'applied', ver}
end
return {'applied'}
