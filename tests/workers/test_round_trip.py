"""The invocation's round trip: redis-py's pipeline, packed and read by hand."""

from __future__ import annotations

import pytest
from redis import Redis
from redis.exceptions import DataError, ResponseError

from workers.round_trip import round_trip


def test_replies_come_back_as_redis_sent_them(redis: Redis) -> None:
    # Given commands of the kinds an invocation sends, a two-word one and a bytearray among them
    pipe = round_trip(redis)
    pipe.xadd("log", {"text": "hello"}, maxlen=10, approximate=True)
    pipe.hincrby("counters", "invocations", 1)
    pipe.lpush("warm", bytearray(b"worker-1"))
    pipe.expire("warm", 600)
    pipe.eval("return redis.call('LPOP', KEYS[1])", 1, "warm")
    pipe.execute_command("CONFIG GET", "maxmemory")
    pipe.execute_command(b"CONFIG GET", "maxmemory")
    # When they leave in one round trip
    stream_id, counted, pushed, expiring, popped, config, same = pipe.execute()
    # Then each reply is Redis's own, with no response callback applied
    assert isinstance(stream_id, bytes) and counted == 1 and pushed == 1
    assert expiring == 1 and not isinstance(expiring, bool) and popped == b"worker-1"
    assert b"maxmemory" in config and same == config
    assert redis.xlen("log") == 1


def test_an_error_reply_is_raised_once_every_reply_is_read(redis: Redis) -> None:
    # Given a round trip whose second command fails in Redis (INCR of a text)
    redis.set("text", "not a number")
    pipe = round_trip(redis)
    pipe.set("before", 1)
    pipe.incr("text")
    pipe.set("after", 1)
    # When it is sent
    with pytest.raises(ResponseError, match="Command # 2"):
        pipe.execute()
    # Then the commands around it ran, and the connection is still in step with its replies
    assert redis.get("before") == redis.get("after") == b"1"
    again = round_trip(redis)
    again.get("before")
    assert again.execute() == [b"1"]


def test_what_redis_cannot_take_is_refused_before_anything_is_sent(redis: Redis) -> None:
    # Given a round trip with a None among its arguments
    pipe = round_trip(redis)
    pipe.set("first", 1)
    pipe.execute_command("SET", "second", None)
    # When it is sent, Then redis-py's DataError says so, and nothing was written
    with pytest.raises(DataError):
        pipe.execute()
    assert redis.exists("first") == 0
