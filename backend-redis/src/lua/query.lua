-- query: KEYS[1] = a partition's index (see the prelude); ARGV[1] = the partition's
-- key without a sort part (every key of the partition extends it), ARGV[2] = 'asc'
-- or 'desc', ARGV[3] and ARGV[4] = the lowest and the highest sort part read, as
-- ZRANGEBYLEX bounds ('[s' included, '(s' excluded, '+' for no upper bound; '(' as
-- the lower bound leaves out the key without a sort part, member ''), ARGV[5] = the
-- page limit.
-- Returns {{after}, {sort, version, token, json}...}: first the sort part the next
-- page continues after, the last one examined ({} when nothing of the range follows),
-- then each item of the page in order with its record. An index entry whose key
-- holds no item (another client removed it behind the store's back) is skipped.
if #KEYS ~= 1 or #ARGV ~= 5 then
  fail('OPTIMIST_PROTOCOL', 'one key and five arguments expected')
end
local limit = tonumber(ARGV[5])
if not limit or limit < 1 then
  fail('OPTIMIST_PROTOCOL', 'a page limit of at least 1 expected')
end
local members
-- One more than the page, to learn whether anything follows it.
if ARGV[2] == 'asc' then
  members = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[3], ARGV[4], 'LIMIT', 0, limit + 1)
elseif ARGV[2] == 'desc' then
  members = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[4], ARGV[3], 'LIMIT', 0, limit + 1)
else
  fail('OPTIMIST_PROTOCOL', 'unknown direction')
end
local base = ARGV[1]
local reply = {{}}
for i = 1, math.min(#members, limit) do
  local sort = members[i]
  local record = read_record(base .. #sort .. ':' .. sort)
  if record[3] then
    table.insert(record, 1, sort)
    reply[#reply + 1] = record
  end
end
if #members > limit then
  reply[1] = {members[limit]}
end
return reply
