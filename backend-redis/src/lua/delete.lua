-- delete: KEYS[1] = item, ARGV[1] = expected version. Returns {'ok'}, {'notfound'}
-- or {'mismatch', json, version}.
local key = KEYS[1]
local ver = version_of(key)
if not ver then
  return {'notfound'}
end
if ver ~= ARGV[1] then
  return {'mismatch', value_of(key), ver}
end
redis.call('DEL', key)
return {'ok'}
