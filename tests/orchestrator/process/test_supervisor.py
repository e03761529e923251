import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from orchestrator.process.supervisor import ChildSpec, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_for(condition: Callable[[], object], supervisor: Supervisor | None = None) -> None:
    deadline = time.monotonic() + 3.0
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        if supervisor is not None:
            supervisor.poll()
        time.sleep(0.02)


@pytest.fixture
def supervisor() -> Iterator[Supervisor]:
    supervisor = Supervisor(initial_backoff=0.1)
    yield supervisor
    supervisor.stop(timeout=1)


def test_a_killed_child_is_restarted(
    supervisor: Supervisor, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a running child
    supervisor.add(ChildSpec("worker-1", SLEEPER))
    supervisor.start()
    first = supervisor.children["worker-1"]

    # When it is killed and the supervisor polls
    first.send_signal(signal.SIGKILL)
    first.wait()
    with caplog.at_level(logging.WARNING, logger="ripple.supervisor"):
        wait_for(lambda: supervisor.children["worker-1"] is not first, supervisor)

    # Then it runs again under a new pid, counted once
    second = supervisor.children["worker-1"]
    assert second.pid != first.pid and alive(second.pid)
    assert supervisor.restarts == {"worker-1": 1}
    assert "worker-1 exited with code -9; restarting in 0.1 s" in caplog.messages


def test_restarts_back_off_exponentially(
    supervisor: Supervisor, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a child that exits as soon as it starts
    supervisor.add(ChildSpec("crasher", [sys.executable, "-c", "raise SystemExit(3)"]))
    supervisor.start()

    # When the supervisor keeps polling
    with caplog.at_level(logging.WARNING, logger="ripple.supervisor"):
        wait_for(lambda: len(caplog.messages) >= 3, supervisor)

    # Then each delay doubles
    assert caplog.messages[:3] == [
        "crasher exited with code 3; restarting in 0.1 s",
        "crasher exited with code 3; restarting in 0.2 s",
        "crasher exited with code 3; restarting in 0.4 s",
    ]


@pytest.mark.parametrize("own_session", [False, True], ids=["same-group", "own-session"])
def test_stop_leaves_no_child_or_grandchild_alive(
    supervisor: Supervisor, tmp_path: Path, own_session: bool
) -> None:
    # Given a child that has spawned a grandchild, and a second plain child
    pid_file = tmp_path / "grandchild.pid"
    parent = (
        "import subprocess, sys, time\n"
        f"g = subprocess.Popen({SLEEPER!r}, start_new_session={own_session})\n"
        f"open({str(pid_file)!r}, 'w').write(str(g.pid))\n"
        "time.sleep(60)\n"
    )
    supervisor.add(ChildSpec("worker-1", [sys.executable, "-c", parent]))
    supervisor.add(ChildSpec("endpoint", SLEEPER))
    supervisor.start()
    wait_for(lambda: pid_file.exists() and pid_file.read_text())
    grandchild = int(pid_file.read_text())
    children = [process.pid for process in supervisor.children.values()]
    assert alive(grandchild)

    # When
    supervisor.stop(timeout=2)

    # Then
    wait_for(lambda: not any(alive(pid) for pid in [*children, grandchild]))


def test_a_child_ignoring_sigterm_is_killed_after_the_timeout(
    supervisor: Supervisor, tmp_path: Path
) -> None:
    # Given a child that ignores SIGTERM
    ready = tmp_path / "ready"
    stubborn = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"open({str(ready)!r}, 'w').close()\n"
        "time.sleep(60)\n"
    )
    supervisor.add(ChildSpec("stubborn", [sys.executable, "-c", stubborn]))
    supervisor.start()
    wait_for(ready.exists)
    process = supervisor.children["stubborn"]

    # When
    started = time.monotonic()
    supervisor.stop(timeout=0.3)

    # Then
    assert process.returncode == -signal.SIGKILL
    assert time.monotonic() - started < 2


def test_output_is_appended_to_the_log_path(supervisor: Supervisor, tmp_path: Path) -> None:
    # Given a log file with earlier content
    log_path = tmp_path / "logs" / "echo.log"
    log_path.parent.mkdir()
    log_path.write_text("earlier\n")
    script = "import sys; print('out'); print('err', file=sys.stderr)"
    supervisor.add(ChildSpec("echo", [sys.executable, "-c", script], log_path=log_path))

    # When
    supervisor.start()
    supervisor.children["echo"].wait()

    # Then
    earlier, *output = log_path.read_text().splitlines()
    assert earlier == "earlier"
    assert sorted(output) == ["err", "out"]


def test_env_is_added_to_the_supervisors_own(supervisor: Supervisor, tmp_path: Path) -> None:
    # Given
    log_path = tmp_path / "env.log"
    script = "import os; print(os.environ['REDIS_URL'], 'PATH' in os.environ)"
    spec = ChildSpec(
        "env", [sys.executable, "-c", script], env={"REDIS_URL": "redis://x"}, log_path=log_path
    )
    supervisor.add(spec)

    # When
    supervisor.start()
    supervisor.children["env"].wait()

    # Then
    assert log_path.read_text() == "redis://x True\n"


def test_run_forever_stops_the_children_when_the_event_is_set(supervisor: Supervisor) -> None:
    # Given a supervisor running in the background
    supervisor.add(ChildSpec("worker-1", SLEEPER))
    supervisor.start()
    child = supervisor.children["worker-1"]
    stop_event = threading.Event()
    runner = threading.Thread(target=supervisor.run_forever, args=(stop_event,))
    runner.start()

    # When
    stop_event.set()
    runner.join(timeout=3)

    # Then
    assert not runner.is_alive()
    assert child.returncode == -signal.SIGTERM


FINISHES_ON_TERM = [sys.executable, "-c", (
    "import signal, sys, time\n"
    "stop = []\n"
    "signal.signal(signal.SIGTERM, lambda *_: stop.append(1))\n"
    "while not stop: time.sleep(0.01)\n"
    "time.sleep(0.5)\n"  # the work it holds, finished after the SIGTERM
    "open(sys.argv[1], 'w').write('finished')\n")]


def test_a_retired_child_finishes_its_work_and_is_not_restarted(
        supervisor: Supervisor, tmp_path: Path) -> None:
    # Given a child that finishes what it holds when asked to stop
    done = tmp_path / "done"
    supervisor.add(ChildSpec("worker-2", [*FINISHES_ON_TERM, str(done)]))
    supervisor.start()
    process = supervisor.children["worker-2"]
    time.sleep(0.3)  # its SIGTERM handler is in place
    # When it is retired with time to spare
    supervisor.retire("worker-2", timeout=10)
    # Then it exits by itself after finishing, and no restart follows
    wait_for(lambda: process.poll() is not None, supervisor)
    assert process.returncode == 0 and done.read_text() == "finished"
    for _ in range(5):
        supervisor.poll()
    assert "worker-2" not in supervisor.children


def test_a_retired_child_that_overstays_is_killed(supervisor: Supervisor) -> None:
    # Given a child that ignores SIGTERM
    stubborn = [sys.executable, "-c",
                "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "time.sleep(60)"]
    supervisor.add(ChildSpec("worker-3", stubborn))
    supervisor.start()
    process = supervisor.children["worker-3"]
    time.sleep(0.3)
    # When it is retired with 0.5 s to finish
    supervisor.retire("worker-3", timeout=0.5)
    # Then it is killed once that has passed
    wait_for(lambda: process.poll() is not None)
    assert process.returncode == -signal.SIGKILL
