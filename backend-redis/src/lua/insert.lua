-- insert: KEYS[1] = item, ARGV[1] = JSON. Returns {'ok', '1'} or
-- {'exists', json, version}.
local key = KEYS[1]
local ver = version_of(key)
if ver then
  return {'exists', value_of(key), ver}
end
redis.call('HSET', key, 'v', ARGV[1], 'ver', '1')
return {'ok', '1'}
