"""The X-Ray daemon receiver on a real UDP socket: what the X-Ray SDK sends (whole segments,
and subsegments streamed on their own) is stored; datagrams that are not the daemon's protocol
are counted and dropped; a port in use leaves the receiver off, not the endpoint down."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aws_xray_sdk.core import AWSXRayRecorder, xray_recorder
from aws_xray_sdk.core.emitters.udp_emitter import UDPEmitter

from tests.conftest import wait_for
from tracing.spans import SpanKind
from tracing.store.database import SpanStore
from tracing.trace_ids import w3c_trace_id
from tracing.xray.daemon import XRayDaemon
from tracing.xray.ingest import SegmentIngest


@pytest.fixture(scope="module", autouse=True)
def _close_the_sdks_global_socket() -> Iterator[None]:
    """Importing the SDK makes a global recorder with a socket of its own; close it."""
    yield
    xray_recorder.emitter._socket.close()


class Served:
    def __init__(self, daemon: XRayDaemon, ingest: SegmentIngest) -> None:
        self.daemon, self.ingest = daemon, ingest
        self.address = f"127.0.0.1:{daemon.port}"


@pytest.fixture
def served(store: SpanStore) -> Iterator[Served]:
    """The receiver on a free port, in an event loop of its own, as in the endpoint."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    ingest = SegmentIngest(store)
    daemon = asyncio.run_coroutine_threadsafe(XRayDaemon.start(ingest, "127.0.0.1", 0),
                                              loop).result(10)
    assert daemon is not None
    yield Served(daemon, ingest)
    asyncio.run_coroutine_threadsafe(daemon.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture
def recorder(served: Served) -> Iterator[Callable[[int], Any]]:
    """The X-Ray SDK's recorder, sending to the receiver as it sends to the daemon (given its
    streaming threshold); its sockets are closed afterwards."""
    made: list[Any] = []

    def make(streaming_threshold: int = 30) -> Any:
        xray = AWSXRayRecorder()
        xray.emitter._socket.close()  # the default emitter, replaced below
        xray.configure(sampling=False, emitter=UDPEmitter(served.address),
                       context_missing="LOG_ERROR", streaming_threshold=streaming_threshold)
        made.append(xray)
        return xray

    yield make
    for xray in made:
        xray.emitter._socket.close()


def test_the_sdks_segment_and_subsegments_are_stored(served: Served, store: SpanStore,
                                                    recorder: Callable[[int], Any]) -> None:
    # Given the X-Ray SDK pointed at the receiver
    xray = recorder(30)
    # When it records a segment with a nested subsegment and an annotation
    segment = xray.begin_segment("checkout")
    segment.put_annotation("customer", "c-1")
    with xray.in_subsegment("work"), xray.in_subsegment("inner"):
        pass
    xray.end_segment()
    trace_id = w3c_trace_id(segment.trace_id)
    # Then the store holds the three spans, parented as recorded
    spans = {span.name: span for span in wait_for(lambda: len(store.trace(trace_id)) == 3
                                                  and store.trace(trace_id))}
    assert spans["checkout"].kind == SpanKind.SERVER and spans["checkout"].span_id == segment.id
    assert spans["work"].parent_span_id == segment.id
    assert spans["inner"].parent_span_id == spans["work"].span_id
    assert spans["checkout"].attributes["ripple.annotation.customer"] == "c-1"
    # And the receiver counts them (just after the store has them, on its own thread)
    wait_for(lambda: served.ingest.stats()["spans_stored"] == 3)


def test_streamed_subsegments_are_stored_before_their_segment_ends(
        served: Served, store: SpanStore, recorder: Callable[[int], Any]) -> None:
    # Given the SDK streaming every finished subsegment on its own (as it does in Lambda)
    xray = recorder(0)
    segment = xray.begin_segment("checkout")
    trace_id = w3c_trace_id(segment.trace_id)
    # When a subsegment ends while its segment is still open
    with xray.in_subsegment("streamed"):
        pass
    # Then it is stored already, under the open segment
    (streamed,) = wait_for(lambda: store.trace(trace_id))
    assert (streamed.name, streamed.parent_span_id) == ("streamed", segment.id)
    xray.end_segment()
    wait_for(lambda: len(store.trace(trace_id)) == 2)


def test_datagrams_without_the_daemons_header_are_counted_and_dropped(served: Served) -> None:
    # When datagrams arrive without the header line, with another format, and with a bad body
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for datagram in (b'{"name": "x"}', b'{"format": "xml", "version": 1}\n{}',
                         b'{"format": "json", "version": 1}\n{"name": "x"}'):
            sender.sendto(datagram, ("127.0.0.1", served.daemon.port))
    # Then all three are counted as rejected, and nothing is stored
    wait_for(lambda: served.ingest.stats()["documents_rejected"] == 3)
    assert served.ingest.stats()["spans_stored"] == 0


def test_a_port_in_use_leaves_the_receiver_off(store: SpanStore,
                                               caplog: pytest.LogCaptureFixture) -> None:
    # Given a UDP port someone else holds
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        # When the receiver tries to listen there
        started = asyncio.run(XRayDaemon.start(SegmentIngest(store), "127.0.0.1", port))
    # Then it stays off with a warning that names the port
    assert started is None
    assert f"cannot listen on UDP 127.0.0.1:{port}" in caplog.text
