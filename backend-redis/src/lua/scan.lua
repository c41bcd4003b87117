-- scan: KEYS[1] = the store's partitions set (see the prelude); ARGV[1] = the store's
-- hash tag '{prefix}', ARGV[2] = 'first' for the first page, or 'after' to continue
-- after the key of partition ARGV[3] and sort part ARGV[4] ('' for the key without
-- one), ARGV[5] = the page limit.
-- The order is the partitions' in byte order, and in each partition its key without
-- a sort part, then its sort parts in byte order: a total order on keys, so a page
-- continues exactly after the last key of the one before.
-- Returns {{after}, {partition, sort, version, token, json}...}: first the key the
-- next page continues after, the last one examined, as {partition, sort} ({} when
-- nothing follows), then each item of the page in order with its record (sort ''
-- for a key without one). An index entry whose key holds no item is skipped.
if #KEYS ~= 1 or #ARGV ~= 5 then
  fail('OPTIMIST_PROTOCOL', 'one key and five arguments expected')
end
local tag = ARGV[1]
local limit = tonumber(ARGV[5])
if not limit or limit < 1 then
  fail('OPTIMIST_PROTOCOL', 'a page limit of at least 1 expected')
end
-- One more than the page, to learn whether anything follows it.
local want = limit + 1
local found = {}

-- Appends the keys of `partition` from `min` on, as many as still wanted.
local function collect(partition, min)
  local index = tag .. #partition .. ':' .. partition .. '#index'
  local members = redis.call('ZRANGEBYLEX', index, min, '+', 'LIMIT', 0, want - #found)
  for _, member in ipairs(members) do
    found[#found + 1] = {partition, member}
  end
end

local from = '-'
if ARGV[2] == 'after' then
  collect(ARGV[3], '(' .. ARGV[4])
  from = '(' .. ARGV[3]
elseif ARGV[2] ~= 'first' then
  fail('OPTIMIST_PROTOCOL', 'unknown start')
end
while #found < want do
  local batch = redis.call('ZRANGEBYLEX', KEYS[1], from, '+', 'LIMIT', 0, want - #found)
  if #batch == 0 then
    break
  end
  for _, partition in ipairs(batch) do
    if #found >= want then
      break
    end
    collect(partition, '-')
  end
  from = '(' .. batch[#batch]
end

local reply = {{}}
for i = 1, math.min(#found, limit) do
  local partition, sort = found[i][1], found[i][2]
  local key = tag .. #partition .. ':' .. partition
  if sort ~= '' then
    key = key .. #sort .. ':' .. sort
  end
  local record = read_record(key)
  if record[3] then
    table.insert(record, 1, sort)
    table.insert(record, 1, partition)
    reply[#reply + 1] = record
  end
end
if #found > limit then
  reply[1] = found[limit]
end
return reply
