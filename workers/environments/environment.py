"""An execution environment: one child process per function version, running `awslambdaric`.

The environment is started on first use (cold start, reported as Init Duration), reused for later
invocations (warm), and killed when it times out, exceeds its memory size or its runtime exits.
It leads a process group of its own (a session): when it stops, for whatever reason, the whole
group is killed, so no process a handler started outlives its environment.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from pathlib import Path

from orchestrator.functions.config import FunctionConfig
from orchestrator.settings import Settings
from workers.environments.launcher import SandboxProcess, launch
from workers.environments.outcome import Outcome, error_type_of, lambda_error
from workers.environments.output import CappedOutput
from workers.environments.runtime_api import API_PREFIX, RuntimeApiServer, RuntimeRequest
from workers.environments.variables import sandbox_environment

INIT_TIMEOUT_SECONDS = 10.0
MEMORY_CHECK_SECONDS = 0.02
STOP_GRACE_SECONDS = 3.0  # an idle environment's last spans leave within the export timeout
_PAGE = os.sysconf("SC_PAGE_SIZE")


class Environment:
    """A warm (or warming) sandbox for one function version; one invocation at a time."""

    def __init__(self, function: FunctionConfig, code_dir: Path, settings: Settings) -> None:
        self.function = function
        self.id = uuid.uuid4().hex[:12]
        self._server = RuntimeApiServer()
        self._output = CappedOutput()  # what it printed since the last invocation began
        self._next: RuntimeRequest | None = None
        self._started = time.perf_counter()
        self._initialized = False
        self._closed = False
        self._status: int | None = None  # /proc/<pid>/status, opened on first use
        self.invocations = 0
        self.last_used = time.monotonic()
        env = sandbox_environment(function, code_dir, self._server.address, settings, self.id)
        self.process: SandboxProcess = launch(function.handler, code_dir, env,
                                              settings.env_template)
        self._stdout = self.process.stdout
        os.set_blocking(self._stdout, False)
        self._server.add_reader(self._stdout, self._read_output)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(
        self, request_id: str, payload: bytes, trace_header: str = "", client_context: str = ""
    ) -> Outcome:
        """Run one event through the handler and wait for its result, its timeout or its death."""
        init_ms = None
        if not self._initialized:
            init_error = self._wait_for_next(time.perf_counter() + INIT_TIMEOUT_SECONDS)
            if init_error is not None:
                init_error.request_id = request_id
                return init_error
            init_ms = (time.perf_counter() - self._started) * 1000
            self._initialized = True
        self._drain_output()
        init_output = self._output.text() if init_ms is not None else ""
        self._output.clear()
        timeout = self.function.timeout
        if self._next is None:
            # The runtime normally asks for the next event right after answering the last one.
            failure = self._wait_for_next(time.perf_counter() + timeout)
            if failure is not None:
                failure.request_id = request_id
                return failure
        assert self._next is not None
        started = time.perf_counter()
        deadline_ms = int(time.time() * 1000 + timeout * 1000)
        headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.function.qualified_arn,
            "Lambda-Runtime-Trace-Id": trace_header,
        }
        if client_context:
            headers["Lambda-Runtime-Client-Context"] = client_context
        self._next.respond(200, payload, headers)
        self._next = None
        self.invocations += 1
        outcome = self._wait_for_result(request_id, started + timeout, timeout)
        outcome.duration_ms = (time.perf_counter() - started) * 1000
        outcome.ended_ns = time.time_ns()
        outcome.init_ms = init_ms
        outcome.max_memory_mb = self._peak_memory_mb()
        if outcome.ok and outcome.max_memory_mb > self.function.memory:
            # The handler outran the sampling below; Lambda would have stopped it all the same.
            self.stop()
            outcome.payload = self._out_of_memory(request_id)
            outcome.error_type = "Runtime.OutOfMemory"
        self._drain_output()
        outcome.output = self._output.text()
        outcome.init_output = init_output
        self.last_used = time.monotonic()
        return outcome

    def _wait_for_next(self, deadline: float) -> Outcome | None:
        """Wait until the runtime asks for an event; an Outcome if it failed instead."""
        while self._next is None:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                self.stop()
                return Outcome("", lambda_error("Runtime.InitError", "Init timed out"),
                               "Runtime.InitError")
            for request in self._server.poll(min(remaining, 0.05)):
                if request.path.endswith("/init/error"):
                    request.respond(202, b'{"status":"OK"}')
                    error_type = request.headers.get("lambda-runtime-function-error-type")
                    self.process.wait(5)
                    self.stop()
                    return Outcome("", request.body or lambda_error("Runtime.Unknown", "init"),
                                   error_type or "Runtime.Unknown",
                                   output=self._output.text())
                if request.method == "GET" and request.path == f"{API_PREFIX}/invocation/next":
                    self._next = request
                else:
                    request.respond(404, b'{"errorMessage":"unknown path"}')
            if self._next is None and not self.alive:
                self.stop()
                message = f"Runtime exited with error: {_exit_reason(self.process.poll())}"
                return Outcome("", lambda_error("Runtime.ExitError", message), "Runtime.ExitError",
                               output=self._output.text())
        return None

    def _wait_for_result(self, request_id: str, deadline: float, timeout: float) -> Outcome:
        prefix = f"{API_PREFIX}/invocation/{request_id}/"
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                self.stop()
                timed_out = f"Task timed out after {timeout:.2f} seconds"
                message = f"RequestId: {request_id} Error: {timed_out}"
                self._output.append(f"{_stamp()} {request_id} {timed_out}\n".encode())
                return Outcome(request_id, lambda_error("Sandbox.Timedout", message),
                               "Sandbox.Timedout")
            for request in self._server.poll(min(remaining, MEMORY_CHECK_SECONDS)):
                if request.path == prefix + "response":
                    request.respond(202, b'{"status":"OK"}')
                    return Outcome(request_id, request.body)
                if request.path == prefix + "error":
                    request.respond(202, b'{"status":"OK"}')
                    error_type = request.headers.get("lambda-runtime-function-error-type")
                    body = request.body or lambda_error("Runtime.Unknown", "unknown error")
                    return Outcome(request_id, body, error_type or error_type_of(body))
                if request.method == "GET" and request.path.endswith("/invocation/next"):
                    self._next = request  # a runtime that answered through another connection
                else:
                    request.respond(400, b'{"errorMessage":"InvalidRequestID"}')
            if self._resident_mb() > self.function.memory:
                self.stop()
                return Outcome(request_id, self._out_of_memory(request_id), "Runtime.OutOfMemory")
            if not self.alive:
                self._drain_output()
                message = (f"RequestId: {request_id} Error: Runtime exited with error: "
                           f"{_exit_reason(self.process.poll())}")
                self.stop()
                return Outcome(request_id, lambda_error("Runtime.ExitError", message),
                               "Runtime.ExitError")

    def _out_of_memory(self, request_id: str) -> bytes:
        message = f"RequestId: {request_id} Error: Runtime exited with error: signal: killed"
        self._output.append(f"{message}\nRuntime.OutOfMemory\n".encode())
        return lambda_error("Runtime.OutOfMemory", message)

    def _read_output(self) -> None:
        try:
            chunk = os.read(self._stdout, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if chunk:
            self._output.append(chunk)
        else:
            self._server.remove_reader(self._stdout)

    def _drain_output(self) -> None:
        while not self._closed:
            try:
                chunk = os.read(self._stdout, 1 << 16)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                return
            self._output.append(chunk)

    def _resident_mb(self) -> float:
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * _PAGE / 1048576
        except (OSError, IndexError, ValueError):
            return 0.0

    def _peak_memory_mb(self) -> int:
        """The sandbox's peak resident memory (VmHWM), from its status file kept open (a
        pread is half the cost of opening and scanning it each invocation)."""
        try:
            if self._status is None:
                self._status = os.open(f"/proc/{self.pid}/status", os.O_RDONLY)
            text = os.pread(self._status, 4096, 0)
            at = text.index(b"VmHWM:")
            return -(-int(text[at + 6:text.index(b"kB", at)]) // 1024)
        except (OSError, ValueError):
            return 0

    def request_stop(self) -> None:
        """Ask an idle sandbox to flush its telemetry and exit; `stop` then waits for it."""
        if not self._closed:
            self.process.request_exit()

    def stop(self, grace: float = 0.0) -> None:
        """Kill the sandbox and everything it started, after up to `grace` seconds for a clean
        exit (an idle environment being reaped or shut down)."""
        if self._closed:
            return
        if grace > 0 and self.process.exits_on_request:
            self.request_stop()
            self.process.wait(grace)
        # The sandbox leads its own process group: whatever the handler started goes with it,
        # also when the sandbox itself has already exited (a clean stop, a crash).
        self._kill_group()
        if self.process.wait(5) is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, 9)
            self.process.wait(5)
        self._drain_output()
        self._closed = True
        self._server.remove_reader(self._stdout)
        self._server.close()
        self.process.close()
        if self._status is not None:
            os.close(self._status)
            self._status = None


    def _kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        return f"signal: {'killed' if code == -9 else -code}"
    return f"exit status {code}"


def _stamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
