"""The Lua scripts that change an object and its indexes in one step, so a concurrent
DeleteBucket never strands an object and a version is never lost between two writes.

Common KEYS: 1 buckets, 2 the bucket's key index, 3 the object (current version), 4 the
sequence counter, 5 the key's history (noncurrent versions and delete markers), 6 the bucket's
index of keys with a history. Metadata arrives as JSON without its closing brace; the script
appends the write's `sequence`. Each returns false for a missing bucket, else
{sequence (0: nothing happened), metadata JSON of each version whose blob is no longer named…}.
"""

_SHARED = """
local function moved_aside(mode, key, dropped)
  local old = redis.call('HMGET', KEYS[3], 'meta', 'body')
  if not old[1] then return end
  if mode == '' then
    table.insert(dropped, old[1])
  else
    local vid = cjson.decode(old[1])['version_id'] or 'null'
    if mode == 'Suspended' and vid == 'null' then
      table.insert(dropped, old[1])
    else
      redis.call('HSET', KEYS[5], vid, old[1])
      if old[2] then redis.call('HSET', KEYS[5], vid .. ':body', old[2]) end
      redis.call('ZADD', KEYS[6], 0, key)
    end
  end
  redis.call('DEL', KEYS[3])
  redis.call('ZREM', KEYS[2], key)
end
local function drop_null(mode, dropped)
  if mode ~= 'Suspended' then return end
  local null = redis.call('HGET', KEYS[5], 'null')
  if null then
    table.insert(dropped, null)
    redis.call('HDEL', KEYS[5], 'null', 'null:body')
  end
end
"""

# ARGV: bucket, key, body, meta, if_absent ('1'), mode ('' | Enabled | Suspended), inline ('1')
PUT = _SHARED + """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return false end
if ARGV[5] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then return {-1} end
local dropped = {}
moved_aside(ARGV[6], ARGV[2], dropped)
drop_null(ARGV[6], dropped)
local seq = redis.call('INCR', KEYS[4])
local meta = ARGV[4] .. ',"sequence":' .. seq .. '}'
if ARGV[7] == '1' then
  redis.call('HSET', KEYS[3], 'meta', meta, 'body', ARGV[3])
else
  redis.call('HSET', KEYS[3], 'meta', meta)
end
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return {seq, unpack(dropped)}
"""

# ARGV: bucket, key, mode, delete marker's meta, its version id
DELETE = _SHARED + """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return false end
local dropped = {}
if ARGV[3] == '' then
  if redis.call('EXISTS', KEYS[3]) == 0 then return {0} end
  moved_aside('', ARGV[2], dropped)
  return {redis.call('INCR', KEYS[4]), unpack(dropped)}
end
moved_aside(ARGV[3], ARGV[2], dropped)
drop_null(ARGV[3], dropped)
local seq = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[5], ARGV[5], ARGV[4] .. ',"sequence":' .. seq .. '}')
redis.call('ZADD', KEYS[6], 0, ARGV[2])
return {seq, unpack(dropped)}
"""

# ARGV: bucket, key, version id. The newest remaining version becomes current if it is an
# object (not a delete marker), as on S3.
DELETE_VERSION = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return false end
local current = redis.call('HGET', KEYS[3], 'meta')
local dropped
if current and (cjson.decode(current)['version_id'] or 'null') == ARGV[3] then
  dropped = current
  redis.call('DEL', KEYS[3])
  redis.call('ZREM', KEYS[2], ARGV[2])
else
  dropped = redis.call('HGET', KEYS[5], ARGV[3])
  if not dropped then return {0} end
  redis.call('HDEL', KEYS[5], ARGV[3], ARGV[3] .. ':body')
end
if redis.call('EXISTS', KEYS[3]) == 0 then
  local newest, newest_seq = nil, -1
  local all = redis.call('HGETALL', KEYS[5])
  for i = 1, #all, 2 do
    if not string.find(all[i], ':body$') then
      local meta = cjson.decode(all[i + 1])
      local seq = meta['sequence'] or 0
      if seq > newest_seq then newest, newest_seq = all[i], seq end
    end
  end
  if newest then
    local raw = redis.call('HGET', KEYS[5], newest)
    if not cjson.decode(raw)['delete_marker'] then
      local body = redis.call('HGET', KEYS[5], newest .. ':body')
      redis.call('HSET', KEYS[3], 'meta', raw)
      if body then redis.call('HSET', KEYS[3], 'body', body) end
      redis.call('HDEL', KEYS[5], newest, newest .. ':body')
      redis.call('ZADD', KEYS[2], 0, ARGV[2])
    end
  end
end
if redis.call('EXISTS', KEYS[5]) == 0 then redis.call('ZREM', KEYS[6], ARGV[2]) end
return {redis.call('INCR', KEYS[4]), dropped}
"""

# KEYS: buckets, the bucket's key index, its history index. ARGV: bucket.
DELETE_BUCKET = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('ZCARD', KEYS[2]) > 0 or redis.call('ZCARD', KEYS[3]) > 0 then return -1 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
"""

# KEYS: buckets. ARGV: bucket, field, JSON value ('' removes it). Changes one field of a
# bucket's record.
SET_BUCKET_FIELD = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local record = cjson.decode(raw)
if ARGV[3] == '' then record[ARGV[2]] = nil else record[ARGV[2]] = cjson.decode(ARGV[3]) end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(record))
return 1
"""
