-- read: KEYS[1] = the key. Returns the record (see reply_of in the prelude): {} for
-- nothing, {version, token} for a tombstone, {version, token, json} for an item.
local key = KEYS[1]
return reply_of(key, record_of(key))
