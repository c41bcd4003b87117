-- update: KEYS[1] = item, ARGV[1] = expected version, ARGV[2] = JSON. Returns
-- {'ok', new version}, {'notfound'} or {'mismatch', json, version}.
local key = KEYS[1]
local ver = version_of(key)
if not ver then
  return {'notfound'}
end
if ver ~= ARGV[1] then
  return {'mismatch', value_of(key), ver}
end
local next_ver = increment(ver)
redis.call('HSET', key, 'v', ARGV[2], 'ver', next_ver)
return {'ok', next_ver}
