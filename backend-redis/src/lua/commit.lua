-- commit: KEYS[i] = the item of write i, ARGV[5i-4..5i] = write i (see the prelude).
-- Returns {'applied', previous_1, ..., previous_n} (each a version, or '' where the
-- key held nothing) when every write went ahead, or {'refused', refusal, ...} with
-- one refusal {i - 1} or {i - 1, json, version} (the item as it is) per refused
-- write, in order.
-- Two passes, so the writes come only after every write has been judged: all or
-- nothing, and every refusal reported at once.
local n = #KEYS
if #ARGV ~= 5 * n then
  fail('OPTIMIST_PROTOCOL', 'five arguments per write expected')
end
local previous = {'applied'}
local versions = {}
local stored = {}
local refusals = {'refused'}
for i = 1, n do
  context = ' (write ' .. (i - 1) .. ')'
  local ver, new_ver = judge(KEYS[i], 5 * i - 4)
  versions[i] = ver
  previous[i + 1] = ver or ''
  stored[i] = new_ver
  if not new_ver then
    local refusal = item_of(KEYS[i], ver)
    table.insert(refusal, 1, tostring(i - 1))
    refusals[#refusals + 1] = refusal
  end
end
if #refusals > 1 then
  return refusals
end
for i = 1, n do
  apply(KEYS[i], 5 * i - 4, versions[i], stored[i])
end
return previous
