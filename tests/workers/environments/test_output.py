"""The cap on what one invocation's output keeps."""

from __future__ import annotations

from workers.environments.output import CappedOutput


def test_output_under_the_cap_is_kept_whole() -> None:
    output = CappedOutput(limit=100, tail=20)
    for _ in range(10):
        output.append(b"0123456789")
    assert output.text() == "0123456789" * 10 and output.dropped == 0


def test_output_over_the_cap_keeps_the_head_and_the_tail_and_says_what_it_dropped() -> None:
    # Given a 100-byte cap with a 20-byte tail
    output = CappedOutput(limit=100, tail=20)
    # When 1,000 bytes arrive in uneven chunks, the last line being the one that matters
    body = b"".join(b"line %03d\n" % n for n in range(110))[:990] + b"THE END!!\n"
    for start in range(0, len(body), 7):
        output.append(body[start:start + 7])
    # Then the first 80 bytes (ended as a line) and the last 20 are kept, a marker between them
    assert output.dropped == 900
    assert output.text() == (body[:80].decode() + "\n"
                             "... [ripple: output truncated, 900 bytes dropped] ...\n"
                             + body[-20:].decode())
    assert output.text().endswith("THE END!!\n")
    # And a new phase starts empty
    output.clear()
    output.append(b"next")
    assert output.text() == "next"
