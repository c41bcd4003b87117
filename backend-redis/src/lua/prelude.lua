-- Shared by every script. A key holds nothing, an item or a tombstone:
--   item:      a hash {v = JSON text, ver = decimal version, tok = write token}
--   tombstone: a hash without v, {ver = the deleted item's version, tok = the deleting
--              write's token, del = when it was deleted, server time in milliseconds}
-- tok is missing on records another client wrote. Versions stay decimal strings end
-- to end: Lua numbers are doubles and would round versions above 2^53, and the
-- contract's versions are u64.
-- Every error is raised before the script's first write: Redis does not roll a script
-- back, so a script that fails must fail while it has changed nothing.
--
-- The indexes that query and scan read, kept by the same scripts as the writes (so
-- atomically, in the same round trip):
--   a partition's index: a sorted set at the partition's key (the key without a sort
--     part) followed by '#index', every score 0, one member per key of the partition
--     that holds an item: its sort part, '' for the key without one. ZRANGEBYLEX reads
--     it in byte order. A tombstone is not indexed.
--   the partitions set: a sorted set at '{prefix}#partitions', every score 0, one member
--     per partition whose index is not empty (Redis removes an empty sorted set).
-- Neither name can be an item's key: after '{prefix}', an item key is length-prefixed
-- parts, each starting with a digit.
--
-- A write is seven arguments, from ARGV[at] on:
--   ARGV[at]     precondition: 'absent' (no record at all, a tombstone neither), 'at'
--                (an item at exactly the version), 'tombstone' (a tombstone at exactly
--                the version) or 'any'
--   ARGV[at + 1] the expected version for 'at' and 'tombstone' (decimal), else ''
--   ARGV[at + 2] change: 'put'; 'delete' (remove the item's record) or 'bury'
--                (replace the item by a tombstone at its version: tombstone mode);
--                or 'keep'
--   ARGV[at + 3] the JSON a put stores, else ''
--   ARGV[at + 4] the write's token (32 lowercase hex digits), stored with what the
--                write leaves
--   ARGV[at + 5] the key's partition part, and ARGV[at + 6] its sort part ('' for a
--                key without one): the key's entries in the indexes
-- A put stores the record's version + 1 (item or tombstone), 1 on a key holding
-- nothing; it is refused at u64::MAX, which nothing follows.

local U64_MAX = '18446744073709551615'

-- Where in a transaction an error arose, so its message names the write.
local context = ''

local function fail(code, message)
  error({err = code .. ' ' .. message .. context})
end

-- A stored version as canonical decimal ('007' -> '7'), or an error if it is not a
-- u64: another tool wrote something this store cannot compare exactly.
local function canonical(ver)
  if not string.find(ver, '^%d+$') then
    fail('OPTIMIST_CORRUPT', 'the item\'s version field is not a decimal number')
  end
  ver = string.gsub(ver, '^0+', '')
  if ver == '' then
    return '0'
  end
  if #ver > 20 then
    fail('OPTIMIST_CORRUPT', 'the item\'s version is larger than a u64')
  end
  if #ver == 20 then
    -- Digit by digit: Lua's string comparison follows the server's locale.
    for i = 1, 20 do
      local a, b = string.byte(ver, i), string.byte(U64_MAX, i)
      if a > b then
        fail('OPTIMIST_CORRUPT', 'the item\'s version is larger than a u64')
      elseif a < b then
        break
      end
    end
  end
  return ver
end

-- The record at key, without its value: nil when the key holds nothing, else
-- {tombstone = bool, ver = canonical version, tok = token or ''}. An item written
-- without a version reads as version '0'. A key holding anything that is neither
-- an item nor a tombstone is an error.
local function record_of(key)
  -- WRONGTYPE on a key that is not a hash: an error reply, before any write.
  local fields = redis.call('HMGET', key, 'ver', 'tok', 'del')
  local ver, tok, del = fields[1], fields[2] or '', fields[3]
  if redis.call('HEXISTS', key, 'v') == 1 then
    return {tombstone = false, ver = ver and canonical(ver) or '0', tok = tok}
  end
  if ver and del then
    if not string.find(del, '^%d+$') then
      fail('OPTIMIST_CORRUPT', 'the tombstone\'s deletion time is not a decimal number')
    end
    return {tombstone = true, ver = canonical(ver), tok = tok}
  end
  if redis.call('EXISTS', key) == 1 then
    fail('OPTIMIST_CORRUPT', 'the key holds a hash without a \'v\' field')
  end
  return nil
end

-- The record as a reply: {} for nothing, {version, token} for a tombstone,
-- {version, token, json} for an item (token '' when the record has none).
local function reply_of(key, record)
  if not record then
    return {}
  end
  if record.tombstone then
    return {record.ver, record.tok}
  end
  local value = redis.call('HGET', key, 'v')
  return {record.ver, record.tok, value}
end

-- The record at key as a reply (the shape of reply_of), read with one HMGET: for
-- reads, which need the value whatever the record is.
local function read_record(key)
  -- WRONGTYPE on a key that is not a hash: an error reply.
  local fields = redis.call('HMGET', key, 'v', 'ver', 'tok', 'del')
  local v, ver, tok, del = fields[1], fields[2], fields[3] or '', fields[4]
  if v then
    return {ver and canonical(ver) or '0', tok, v}
  end
  if ver and del then
    if not string.find(del, '^%d+$') then
      fail('OPTIMIST_CORRUPT', 'the tombstone\'s deletion time is not a decimal number')
    end
    return {canonical(ver), tok}
  end
  if redis.call('EXISTS', key) == 1 then
    fail('OPTIMIST_CORRUPT', 'the key holds a hash without a \'v\' field')
  end
  return {}
end

-- What the key held before a write, as a reply: {} for nothing,
-- {'item', version} or {'tombstone', version}.
local function held_of(record)
  if not record then
    return {}
  end
  return {record.tombstone and 'tombstone' or 'item', record.ver}
end

-- version + 1, exactly, as decimal; nil at u64::MAX, which nothing follows.
local function increment(ver)
  if #ver <= 13 then
    -- Below 2^53 a double is exact, and tostring prints up to 14 digits plainly.
    return tostring(tonumber(ver) + 1)
  end
  if ver == U64_MAX then
    return nil
  end
  local i = #ver
  while string.byte(ver, i) == 57 do -- '9'
    i = i - 1
  end
  if i == 0 then
    return '1' .. string.rep('0', #ver)
  end
  return string.sub(ver, 1, i - 1) .. string.char(string.byte(ver, i) + 1)
    .. string.rep('0', #ver - i)
end

-- The server's clock in milliseconds since the epoch, as decimal text (the same
-- clock for leaving a tombstone and for purging it, whatever the clients' clocks say).
local function now_ms()
  local time = redis.call('TIME')
  return time[1] .. string.format('%03d', math.floor(tonumber(time[2]) / 1000))
end

-- Judges the write at ARGV[at] against its key, reading nothing else and writing
-- nothing. Returns the key's record (nil: nothing) and, when the write may go ahead,
-- the version a put stores ('' for a delete, a bury or a keep); that second result
-- is nil when the write is refused: its precondition fails, or it is a put on a
-- record at u64::MAX.
local function judge(key, at)
  local expect, expected, change = ARGV[at], ARGV[at + 1], ARGV[at + 2]
  local token = ARGV[at + 4]
  if #token ~= 32 or not string.find(token, '^[0-9a-f]+$') then
    fail('OPTIMIST_PROTOCOL', 'a write token is 32 lowercase hex digits')
  end
  local record = record_of(key)
  local holds
  if expect == 'absent' then
    holds = not record
  elseif expect == 'at' then
    holds = record ~= nil and not record.tombstone and record.ver == expected
  elseif expect == 'tombstone' then
    holds = record ~= nil and record.tombstone and record.ver == expected
  elseif expect == 'any' then
    holds = true
  else
    fail('OPTIMIST_PROTOCOL', 'unknown precondition')
  end
  if change == 'delete' or change == 'bury' or change == 'keep' then
    return record, holds and '' or nil
  elseif change ~= 'put' then
    fail('OPTIMIST_PROTOCOL', 'unknown change')
  end
  if not holds then
    return record, nil
  end
  if not record then
    return record, '1'
  end
  return record, increment(record.ver)
end

-- Applies the write at ARGV[at], which judge let go ahead with `new_ver`. A delete or
-- bury of a key without an item (nothing, or a tombstone: only 'any' gets there)
-- writes nothing; a keep never writes.
local function apply(key, at, record, new_ver)
  local change, token = ARGV[at + 2], ARGV[at + 4]
  if change == 'put' then
    redis.call('HSET', key, 'v', ARGV[at + 3], 'ver', new_ver, 'tok', token)
    if record and record.tombstone then
      redis.call('HDEL', key, 'del')
    end
  elseif record and not record.tombstone then
    if change == 'delete' then
      redis.call('DEL', key)
    elseif change == 'bury' then
      -- Only the tombstone's fields: whatever else the item's hash held goes, as a
      -- delete would take it.
      local deleted_at = now_ms()
      redis.call('DEL', key)
      redis.call('HSET', key, 'ver', record.ver, 'tok', token, 'del', deleted_at)
    end
  end
end

-- The partitions set (KEYS[1] of write and commit), and whether it was checked to be
-- a sorted set (or nothing) yet in this script.
local partitions
local partitions_checked = false

-- How the write at ARGV[at], judged with `record` and `new_ver`, changes the index
-- of its key's partition: 'add' (the key will hold an item its index lacks),
-- 'remove' (the key will hold no item, and its index has it) or nil. Reads only, and
-- raises WRONGTYPE for an index or partitions set of another type, so that a script
-- fails before its first write.
local function index_change(index, at, record, new_ver)
  local change = ARGV[at + 2]
  if not new_ver or change == 'keep' then
    return nil
  end
  if change ~= 'put' and not (record and not record.tombstone) then
    -- A delete of nothing or of a tombstone writes nothing.
    return nil
  end
  local indexed = redis.call('ZSCORE', index, ARGV[at + 6]) ~= false
  local holds_item = change == 'put'
  local plan = nil
  if holds_item and not indexed then
    plan = 'add'
  elseif not holds_item and indexed then
    plan = 'remove'
  end
  if plan and not partitions_checked then
    redis.call('ZCARD', partitions)
    partitions_checked = true
  end
  return plan
end

-- Applies an index change (see index_change) of the write at ARGV[at]. The partition
-- joins the partitions set with its first item and leaves it with its last.
local function apply_index(index, at, plan)
  local partition, member = ARGV[at + 5], ARGV[at + 6]
  if plan == 'add' then
    redis.call('ZADD', index, 0, member)
    redis.call('ZADD', partitions, 0, partition)
  elseif plan == 'remove' then
    redis.call('ZREM', index, member)
    if redis.call('EXISTS', index) == 0 then
      redis.call('ZREM', partitions, partition)
    end
  end
end
