-- commit: KEYS[1] = the partitions set, KEYS[2i] = the key of write i and KEYS[2i + 1]
-- its partition's index, ARGV[7i-6..7i] = write i (see the prelude).
-- Returns {'applied', held_1, ..., held_n}, each what write i's key held before (see
-- held_of), when every write went ahead, or {'refused', refusal, ...} with one
-- refusal {i - 1, record...} (the record as it is, see reply_of) per refused write,
-- in order.
-- Two passes, so the writes come only after every write has been judged (and every
-- index checked): all or nothing, and every refusal reported at once.
if #KEYS % 2 ~= 1 then
  fail('OPTIMIST_PROTOCOL', 'the partitions set, then two keys per write expected')
end
local n = (#KEYS - 1) / 2
if #ARGV ~= 7 * n then
  fail('OPTIMIST_PROTOCOL', 'seven arguments per write expected')
end
partitions = KEYS[1]
local applied = {'applied'}
local records = {}
local stored = {}
local refusals = {'refused'}
for i = 1, n do
  context = ' (write ' .. (i - 1) .. ')'
  local record, new_ver = judge(KEYS[2 * i], 7 * i - 6)
  records[i] = record
  applied[i + 1] = held_of(record)
  stored[i] = new_ver
  if not new_ver then
    local refusal = reply_of(KEYS[2 * i], record)
    table.insert(refusal, 1, tostring(i - 1))
    refusals[#refusals + 1] = refusal
  end
end
if #refusals > 1 then
  return refusals
end
local plans = {}
for i = 1, n do
  context = ' (write ' .. (i - 1) .. ')'
  plans[i] = index_change(KEYS[2 * i + 1], 7 * i - 6, records[i], stored[i])
end
context = ''
for i = 1, n do
  apply(KEYS[2 * i], 7 * i - 6, records[i], stored[i])
  apply_index(KEYS[2 * i + 1], 7 * i - 6, plans[i])
end
return applied
