"""One owner per shard: a lease in Redis that the owner renews, and a checkpoint that only the
owner may move."""

from __future__ import annotations

from redis import Redis

LEASE_SECONDS = 5.0
_RENEW = """
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] or not owner then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_CHECKPOINT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


class ShardLease:
    """The right to poll one shard for one mapping; `owner` names this process."""

    def __init__(self, redis: Redis, mapping_id: str, shard_key: str, owner: str) -> None:
        self.redis = redis
        self.owner = owner
        self.lease_key = f"ripple:esm:lease:{mapping_id}:{shard_key}"
        self.checkpoint_key = f"ripple:esm:checkpoint:{mapping_id}:{shard_key}"
        self._renew = redis.register_script(_RENEW)
        self._checkpoint = redis.register_script(_CHECKPOINT)
        self._release = redis.register_script(_RELEASE)

    def hold(self) -> bool:
        """Take the lease if free, or renew it if ours; False if another process holds it."""
        result = self._renew(keys=[self.lease_key],
                             args=[self.owner, int(LEASE_SECONDS * 1000)])
        return bool(result)

    def checkpoint(self) -> str | None:
        value = self.redis.get(self.checkpoint_key)
        return value.decode() if isinstance(value, bytes) else None

    def start_at(self, entry_id: str) -> None:
        """Set the first checkpoint (starting position) unless one exists."""
        self.redis.set(self.checkpoint_key, entry_id, nx=True)

    def advance(self, entry_id: str) -> bool:
        """Move the checkpoint past `entry_id`; refused (False) if the lease was lost."""
        return bool(self._checkpoint(keys=[self.lease_key, self.checkpoint_key],
                                     args=[self.owner, entry_id]))

    def release(self) -> None:
        self._release(keys=[self.lease_key], args=[self.owner])
