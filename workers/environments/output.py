"""What an environment printed during one phase (its init, or one invocation), capped as
CloudWatch caps a log event: 256 KB.

A handler that prints 50 MB in one invocation would otherwise be held whole in the worker's
memory and stored as one 50 MB log entry. The cap applies while the environment's stdout is
read: the first bytes are kept, then only the last TAIL_BYTES (where a traceback, or ripple's own
timeout line, ends up), and what fell between them is counted and marked.
"""

from __future__ import annotations

LOG_EVENT_BYTES = 256 * 1024
TAIL_BYTES = 16 * 1024


class CappedOutput:
    """At most `limit` bytes of output: the head, a marker for what was dropped, the tail."""

    def __init__(self, limit: int = LOG_EVENT_BYTES, tail: int = TAIL_BYTES) -> None:
        self.head_limit = limit - tail
        self.tail_limit = tail
        self._head = bytearray()
        self._tail = bytearray()
        self.dropped = 0

    def append(self, data: bytes) -> None:
        room = self.head_limit - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if data:
            self._tail += data
            excess = len(self._tail) - self.tail_limit
            if excess > 0:
                del self._tail[:excess]
                self.dropped += excess

    def text(self) -> str:
        head = self._head.decode("utf-8", "replace")
        tail = self._tail.decode("utf-8", "replace")
        if not self.dropped:
            return head + tail
        if not head.endswith("\n"):
            head += "\n"
        return f"{head}... [ripple: output truncated, {self.dropped} bytes dropped] ...\n{tail}"

    def clear(self) -> None:
        self._head.clear()
        self._tail.clear()
        self.dropped = 0
