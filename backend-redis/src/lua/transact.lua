-- transact: KEYS[i] = item of op i; ARGV[3i-2] = action (I insert, U update, D delete,
-- C check, P put, R remove), ARGV[3i-1] = expected version or '', ARGV[3i] = JSON or ''.
-- Returns {'ok', after_1, ..., after_n} (a version, or '' for none), or
-- {'conflict', {i, kind, json, version}, ...} with one entry per failing op (kind
-- 'exists', 'notfound' or 'mismatch'; json and version absent for 'notfound').
-- Three passes so the writes come only after every check and every version increment
-- has succeeded: all or nothing.
local n = #KEYS
local versions = {}
local failures = {}
for i = 1, n do
  local key, action, expected = KEYS[i], ARGV[3 * i - 2], ARGV[3 * i - 1]
  context = ' (op ' .. (i - 1) .. ')'
  local ver = version_of(key)
  versions[i] = ver
  if action == 'I' then
    if ver then
      failures[#failures + 1] = {tostring(i - 1), 'exists', value_of(key), ver}
    end
  elseif action == 'U' or action == 'D' or action == 'C' then
    if not ver then
      failures[#failures + 1] = {tostring(i - 1), 'notfound'}
    elseif ver ~= expected then
      failures[#failures + 1] = {tostring(i - 1), 'mismatch', value_of(key), ver}
    end
  elseif action ~= 'P' and action ~= 'R' then
    fail('OPTIMIST_PROTOCOL', 'unknown transaction action')
  end
end
if #failures > 0 then
  return {'conflict', unpack(failures)}
end

local after = {'ok'}
for i = 1, n do
  local action, ver = ARGV[3 * i - 2], versions[i]
  context = ' (op ' .. (i - 1) .. ')'
  if action == 'I' or action == 'U' or action == 'P' then
    after[i + 1] = ver and increment(ver) or '1'
  elseif action == 'C' then
    after[i + 1] = ver
  else
    after[i + 1] = ''
  end
end

for i = 1, n do
  local key, action = KEYS[i], ARGV[3 * i - 2]
  if action == 'I' or action == 'U' or action == 'P' then
    redis.call('HSET', key, 'v', ARGV[3 * i], 'ver', after[i + 1])
  elseif (action == 'D' or action == 'R') and versions[i] then
    redis.call('DEL', key)
  end
end
return after
