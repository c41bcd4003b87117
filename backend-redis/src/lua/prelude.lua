-- Shared by every script. An item is a hash {v = JSON text, ver = decimal version}.
-- Versions stay decimal strings end to end: Lua numbers are doubles and would round
-- versions above 2^53, and the contract's versions are u64.
-- Every error is raised before the script's first write: Redis does not roll a script
-- back, so a script that fails must fail while it has changed nothing.
--
-- A write is five arguments, from ARGV[at] on:
--   ARGV[at]     precondition: 'absent', 'at' or 'any'
--   ARGV[at + 1] the expected version for 'at' (decimal), else ''
--   ARGV[at + 2] change: 'put', 'delete' or 'keep'
--   ARGV[at + 3] the version a put stores under 'absent' or 'at', computed by the
--                engine; '' otherwise (under 'any' it is the item's version + 1,
--                computed here, where the item is read)
--   ARGV[at + 4] the JSON a put stores, else ''

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

-- The item's version ('0' when it was written without one), or nil when the key holds
-- nothing. A key holding anything that is not such a hash is an error.
local function version_of(key)
  local ver = redis.call('HGET', key, 'ver')
  if ver then
    return canonical(ver)
  end
  if redis.call('HEXISTS', key, 'v') == 1 then
    return '0'
  end
  if redis.call('EXISTS', key) == 1 then
    fail('OPTIMIST_CORRUPT', 'the key holds a hash without a \'v\' field')
  end
  return nil
end

-- The item as a reply: {json, version}, or {} when absent.
local function item_of(key, ver)
  if not ver then
    return {}
  end
  local value = redis.call('HGET', key, 'v')
  if not value then
    fail('OPTIMIST_CORRUPT', 'the key holds a hash without a \'v\' field')
  end
  return {value, ver}
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

-- Judges the write at ARGV[at] against its item, reading nothing else and writing
-- nothing. Returns the item's version (nil: absent) and, when the write may go ahead,
-- the version a put stores ('' for a delete or a keep); that second result is nil
-- when the write is refused: its precondition fails, or it is a put on an item at
-- u64::MAX.
local function judge(key, at)
  local expect, expected, change = ARGV[at], ARGV[at + 1], ARGV[at + 2]
  local ver = version_of(key)
  local holds
  if expect == 'absent' then
    holds = not ver
  elseif expect == 'at' then
    holds = ver == expected
  elseif expect == 'any' then
    holds = true
  else
    fail('OPTIMIST_PROTOCOL', 'unknown precondition')
  end
  if change == 'delete' or change == 'keep' then
    return ver, holds and '' or nil
  elseif change ~= 'put' then
    fail('OPTIMIST_PROTOCOL', 'unknown change')
  end
  if not holds then
    return ver, nil
  end
  if expect ~= 'any' then
    if ARGV[at + 3] == '' then
      fail('OPTIMIST_PROTOCOL', 'a conditional put without its new version')
    end
    return ver, ARGV[at + 3]
  end
  if not ver then
    return ver, '1'
  end
  return ver, increment(ver)
end

-- Applies the write at ARGV[at], which judge let go ahead with `new_ver`.
local function apply(key, at, ver, new_ver)
  local change = ARGV[at + 2]
  if change == 'put' then
    redis.call('HSET', key, 'v', ARGV[at + 4], 'ver', new_ver)
  elseif change == 'delete' and ver then
    redis.call('DEL', key)
  end
end

