-- read: KEYS[1] = the item. Returns {} when absent, else {json, version}.
local key = KEYS[1]
return item_of(key, version_of(key))
