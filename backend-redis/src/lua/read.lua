-- read: KEYS[1] = the key. Returns the record (see read_record in the prelude): {} for
-- nothing, {version, token} for a tombstone, {version, token, json} for an item.
if #KEYS ~= 1 then
  fail('OPTIMIST_PROTOCOL', 'one key expected')
end
return read_record(KEYS[1])
