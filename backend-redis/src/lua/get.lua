-- get: KEYS[1] = item. Returns {} when absent, else {json, version}.
local key = KEYS[1]
local ver = version_of(key)
if not ver then
  return {}
end
return {value_of(key), ver}
