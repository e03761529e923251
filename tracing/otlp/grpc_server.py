"""The OTLP/gRPC trace receiver: `opentelemetry.proto.collector.trace.v1.TraceService/Export`,
the OpenTelemetry SDKs' most common exporter (port 4317), beside the OTLP/HTTP one.

It runs in the endpoint's own event loop (`grpc.aio`) and hands each export to the receiver's
one path (`tracing.receiver.protobuf_receiver`, given by whoever starts it, as this package sits
below the receiver) on a worker thread so the store never blocks the loop: the same decoding,
counters, forwarding and partial success. gzip arrives already inflated by gRPC itself.

The method is the generated `TraceServiceServicer`'s, registered with a deserializer that
passes the bytes through: the generated registration parses before the servicer runs, and a
corrupt message then reaches the exporter as UNKNOWN ("Unexpected DecodeError"), where OTLP
asks for INVALID_ARGUMENT. Parsing in the receiver gives that, and the forwarder gets the bytes
as they were sent.

Who may export is the starter's rule (`authorize`: the endpoint passes its own, loopback or the
token, from `orchestrator/endpoint/auth.py`); the token comes as `authorization: Bearer <token>`
metadata. A port
already taken turns the receiver off with a warning instead of failing the endpoint.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from tracing.errors import TracingError

log = logging.getLogger("ripple.tracing.grpc")
SERVICE = trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name
STOP_GRACE_SECONDS = 2.0
MAX_MESSAGE = 64 * 1024 * 1024  # as the HTTP receiver's decompressed limit
# Decode, forward and store one export's protobuf bytes (blocking); raises TracingError when
# they are undecodable.
Receive = Callable[[bytes], ExportTraceServiceResponse]
# Whether a peer (its address, None off the network) that presented a token (or None) may in.
Authorize = Callable[[str | None, str | None], bool]


def peer_host(peer: str) -> str | None:
    """The address in a gRPC peer string: `ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000`."""
    scheme, _, rest = peer.partition(":")
    if scheme == "ipv4":
        return rest.rsplit(":", 1)[0]
    if scheme == "ipv6":
        return rest.rsplit(":", 1)[0].strip("[]")
    return None  # unix sockets and the like: not a network peer we can place


class TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    """`Export`, into `receive`."""

    def __init__(self, receive: Receive, authorize: Authorize,
                 unavailable: Callable[[], bool] = lambda: False) -> None:
        self.receive = receive
        self.authorize = authorize
        self.unavailable = unavailable  # an outage asked for (`ripple chaos --drop-otlp`)

    async def Export(self, request: bytes,  # noqa: N802 (the generated servicer's name)
                     context: grpc.aio.ServicerContext[bytes, ExportTraceServiceResponse]
                     ) -> ExportTraceServiceResponse:
        if not self._allowed(context):
            await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                                "Access denied: send the endpoint's token (RIPPLE_TOKEN) as "
                                "`authorization: Bearer <token>`.")
        if self.unavailable():
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the receiver is down on purpose")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, self.receive, request)
        except TracingError as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
            raise  # abort raises; this line only tells type checkers so

    def _allowed(self, context: grpc.aio.ServicerContext[bytes, ExportTraceServiceResponse]
                 ) -> bool:
        authorization = str(dict(context.invocation_metadata() or ()).get("authorization", ""))
        given = authorization.removeprefix("Bearer ") if authorization.startswith(
            "Bearer ") else None
        return self.authorize(peer_host(context.peer()), given)


def _handlers(service: TraceService) -> grpc.GenericRpcHandler:
    export = grpc.unary_unary_rpc_method_handler(
        service.Export, request_deserializer=None,  # bytes, parsed by `receive`
        response_serializer=ExportTraceServiceResponse.SerializeToString)
    return grpc.method_handlers_generic_handler(SERVICE, {"Export": export})


class OtlpGrpcServer:
    """The receiver's server, started and stopped with the endpoint."""

    def __init__(self, server: grpc.aio.Server, port: int) -> None:
        self.server = server
        self.port = port

    @classmethod
    async def start(cls, receive: Receive, host: str, port: int, authorize: Authorize,
                    unavailable: Callable[[], bool] = lambda: False) -> OtlpGrpcServer | None:
        """Serve on host:port; None, with a warning, if that cannot be done."""
        server = grpc.aio.server(options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.so_reuseport", 0)])  # a port in use is an error, not a shared socket
        server.add_generic_rpc_handlers((_handlers(TraceService(receive, authorize, unavailable)),))
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        try:
            bound = server.add_insecure_port(address)
        except RuntimeError as error:
            bound, reason = 0, str(error)
        else:
            reason = "address in use or unavailable"
        if not bound:
            log.warning("OTLP/gRPC receiver off: cannot listen on %s (%s)", address, reason)
            await server.stop(None)
            return None
        await server.start()
        return cls(server, bound)

    async def stop(self) -> None:
        """Finish the exports in flight (for up to a couple of seconds), then close."""
        await self.server.stop(STOP_GRACE_SECONDS)
