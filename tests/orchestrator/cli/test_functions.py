"""`ripple deploy`, `functions`, `invoke` and `logs` against a running ripple."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from tests.conftest import Deploy, Ripple


def test_bad_spec_names_file_and_field_and_deploys_nothing(ripple: Ripple,
                                                           tmp_path: Path) -> None:
    # Given a spec whose second function has an out-of-range memory size
    good, bad = f"good-{uuid.uuid4().hex[:6]}", f"bad-{uuid.uuid4().hex[:6]}"
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "app.py").write_text("def handler(e, c):\n    return 1\n")
    spec = tmp_path / "ripple.yaml"
    spec.write_text(f"functions:\n"
                    f"  {good}: {{handler: app.handler, code: ./code}}\n"
                    f"  {bad}: {{handler: app.handler, code: ./code, memory: 64}}\n")
    # When it is deployed
    result = ripple.cli("deploy", str(spec))
    # Then the command fails naming the file, the field and why
    assert result.returncode != 0
    assert str(spec) in result.stderr
    assert f"functions.{bad}.memory" in result.stderr
    assert "128" in result.stderr
    # And nothing was deployed, not even the good function
    names = [function["name"] for function in ripple.api("GET", "/_ripple/api/functions")]
    assert good not in names and bad not in names


def test_deploy_says_whether_it_created_updated_or_left_a_function(ripple: Ripple,
                                                                   tmp_path: Path) -> None:
    # Given a spec with one new function
    name = f"fresh-{uuid.uuid4().hex[:6]}"
    (tmp_path / "code").mkdir()
    handler = tmp_path / "code" / "app.py"
    handler.write_text("def handler(e, c):\n    return 1\n")
    spec = tmp_path / "ripple.yaml"
    spec.write_text(f"functions:\n  {name}: {{handler: app.handler, code: ./code}}\n")
    # When it is deployed, deployed again as it is, and deployed after its code changed
    first = ripple.cli("deploy", str(spec))
    again = ripple.cli("deploy", str(spec))
    handler.write_text("def handler(e, c):\n    return 2\n")
    changed = ripple.cli("deploy", str(spec))
    # Then each says which it was
    assert f"deployed {name} (created," in first.stderr
    assert f"deployed {name} (unchanged," in again.stderr
    assert f"deployed {name} (updated," in changed.stderr


def test_invoke_prints_the_response_and_report(ripple: Ripple, deploy: Deploy) -> None:
    name = deploy("def handler(event, context):\n    return {'got': event}\n")
    result = ripple.cli("invoke", name, "--payload", '{"a": 1}')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"got": {"a": 1}}
    assert "REPORT RequestId:" in result.stderr and "Billed Duration" in result.stderr


def test_invoke_exits_1_on_a_function_error(ripple: Ripple, deploy: Deploy) -> None:
    name = deploy("def handler(event, context):\n    raise TypeError('nope')\n")
    result = ripple.cli("invoke", name)
    assert result.returncode == 1
    assert json.loads(result.stdout)["errorType"] == "TypeError"


def test_invoke_reads_the_payload_from_a_file(ripple: Ripple, deploy: Deploy,
                                              tmp_path: Path) -> None:
    name = deploy("def handler(event, context):\n    return event['n'] * 2\n")
    (tmp_path / "event.json").write_text('{"n": 21}')
    result = ripple.cli("invoke", name, "--payload", f"@{tmp_path / 'event.json'}")
    assert result.stdout.strip() == "42"


def test_functions_lists_configuration_and_counters(ripple: Ripple, deploy: Deploy) -> None:
    name = deploy("def handler(event, context):\n    return 1\n", memory=256,
                  reserved_concurrency=3)
    ripple.cli("invoke", name, check=True)
    listing = json.loads(ripple.cli("functions", "--json", check=True).stdout)
    mine = next(function for function in listing if function["name"] == name)
    assert mine["memory"] == 256 and mine["reserved_concurrency"] == 3
    assert mine["counters"]["invocations"] == 1 and mine["counters"]["cold_starts"] == 1


def test_logs_show_start_output_end_and_report(ripple: Ripple, deploy: Deploy) -> None:
    name = deploy("def handler(event, context):\n    print('marker-123')\n")
    ripple.cli("invoke", name, check=True)
    result = ripple.cli("logs", name, check=True)
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("START RequestId:"))
    assert lines[start + 1] == "marker-123"
    assert lines[start + 2].startswith("END RequestId:")
    assert lines[start + 3].startswith("REPORT RequestId:") and "Init Duration" in lines[start + 3]


def test_cli_without_a_running_ripple_says_how_to_start_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import clean_environment, free_port

    env = clean_environment(RIPPLE_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    result = subprocess.run([sys.executable, "-m", "orchestrator.cli", "functions"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "ripple up" in result.stderr


def test_logs_follow_prints_new_invocations(ripple: Ripple, deploy: Deploy) -> None:
    import subprocess
    import sys
    import time

    from tests.conftest import clean_environment

    # Given `ripple logs --follow` running on a function
    name = deploy("def handler(event, context):\n    print('followed-' + event['n'])\n")
    follower = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", "logs", name, "--follow"],
        env=clean_environment(RIPPLE_ENDPOINT=ripple.url), stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        # When the function is invoked
        ripple.cli("invoke", name, "--payload", '{"n": "42"}', check=True)
        # Then its output appears on the follower's stdout
        assert follower.stdout is not None
        deadline = time.monotonic() + 30
        seen = ""
        while time.monotonic() < deadline and "REPORT" not in seen:
            seen += follower.stdout.readline()
        assert "followed-42" in seen and "REPORT RequestId:" in seen
    finally:
        follower.kill()
        follower.communicate()
