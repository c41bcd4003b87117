-- put: KEYS[1] = item, ARGV[1] = JSON. Returns {'ok', new version}.
local key = KEYS[1]
local ver = version_of(key)
local next_ver = '1'
if ver then
  next_ver = increment(ver)
end
redis.call('HSET', key, 'v', ARGV[1], 'ver', next_ver)
return {'ok', next_ver}
