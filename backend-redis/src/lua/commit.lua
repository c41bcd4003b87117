-- commit: KEYS[i] = the key of write i, ARGV[5i-4..5i] = write i (see the prelude).
-- Returns {'applied', held_1, ..., held_n}, each what write i's key held before (see
-- held_of), when every write went ahead, or {'refused', refusal, ...} with one
-- refusal {i - 1, record...} (the record as it is, see reply_of) per refused write,
-- in order.
-- Two passes, so the writes come only after every write has been judged: all or
-- nothing, and every refusal reported at once.
local n = #KEYS
if #ARGV ~= 5 * n then
  fail('OPTIMIST_PROTOCOL', 'five arguments per write expected')
end
local applied = {'applied'}
local records = {}
local stored = {}
local refusals = {'refused'}
for i = 1, n do
  context = ' (write ' .. (i - 1) .. ')'
  local record, new_ver = judge(KEYS[i], 5 * i - 4)
  records[i] = record
  applied[i + 1] = held_of(record)
  stored[i] = new_ver
  if not new_ver then
    local refusal = reply_of(KEYS[i], record)
    table.insert(refusal, 1, tostring(i - 1))
    refusals[#refusals + 1] = refusal
  end
end
if #refusals > 1 then
  return refusals
end
for i = 1, n do
  apply(KEYS[i], 5 * i - 4, records[i], stored[i])
end
return applied
