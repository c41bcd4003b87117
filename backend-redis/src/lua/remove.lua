-- remove: KEYS[1] = item. Returns {'ok', removed version} or {'ok'} when absent.
local key = KEYS[1]
local ver = version_of(key)
if not ver then
  return {'ok'}
end
redis.call('DEL', key)
return {'ok', ver}
