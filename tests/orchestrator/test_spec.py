"""`ripple.yaml` parsing: the good example loads; every bad field names the file, field and why."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.errors import SpecError
from orchestrator.spec import Spec, load_spec

GOOD = textwrap.dedent("""\
    functions:
      resize:
        handler: app.handler
        code: ./functions/resize
        runtime: python3.11
        memory: 256
        timeout: 10
        environment: {DEST_BUCKET: thumbs}
        reserved_concurrency: 10
        retries: 2
        max_event_age: 21600
        on_failure: resize-dlq
        architecture: x86_64
        events:
          - s3: {bucket: uploads, events: ["s3:ObjectCreated:*"], prefix: images/, suffix: .jpg}
          - dynamodb: {table: orders, batch_size: 10, starting_position: LATEST}
          - http: {method: GET, path: "/thumbs/{id}"}
      resize-dlq:
        handler: app.handler
        code: ./functions/resize
    buckets: [uploads, thumbs]
    tables:
      orders: {keys: {pk: S, sk: S}, stream: NEW_AND_OLD_IMAGES}
    """)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder holding the code that GOOD points at."""
    (tmp_path / "functions" / "resize").mkdir(parents=True)
    (tmp_path / "functions" / "resize" / "app.py").write_text("def handler(e, c):\n    pass\n")
    return tmp_path


def write(project: Path, text: str) -> Path:
    spec = project / "ripple.yaml"
    spec.write_text(text)
    return spec


def edited(old: str, new: str) -> str:
    assert old in GOOD, f"{old!r} is not in the good spec"
    return GOOD.replace(old, new, 1)


def rejection(spec: Path) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_spec(spec)
    return caught.value


def test_the_design_example_loads_with_defaults_and_resolved_code(project: Path) -> None:
    # Given the spec from the design document
    spec_path = write(project, GOOD)
    # When it is loaded
    spec = load_spec(spec_path)
    # Then every field is there, code is an absolute folder, and defaults are filled in
    assert isinstance(spec, Spec)
    assert spec.base_dir == project.resolve()
    assert set(spec.functions) == {"resize", "resize-dlq"}
    resize = spec.functions["resize"]
    assert resize.code == (project / "functions" / "resize").resolve()
    assert resize.code.is_absolute()
    assert (resize.handler, resize.runtime, resize.memory, resize.timeout) == (
        "app.handler", "python3.11", 256, 10)
    assert resize.environment == {"DEST_BUCKET": "thumbs"}
    assert (resize.reserved_concurrency, resize.retries, resize.on_failure) == (
        10, 2, "resize-dlq")
    s3, dynamodb, http = (trigger for trigger in resize.events)
    assert s3.s3 is not None and s3.s3.bucket == "uploads" and s3.s3.prefix == "images/"
    assert dynamodb.dynamodb is not None
    assert dynamodb.dynamodb.batch_size == 10
    assert dynamodb.dynamodb.maximum_retry_attempts == -1
    assert dynamodb.dynamodb.parallelization_factor == 1
    assert http.http is not None
    assert (http.http.method, http.http.path, http.http.payload_format) == (
        "GET", "/thumbs/{id}", "2.0")
    assert spec.buckets == ["uploads", "thumbs"]
    assert spec.tables["orders"].keys == {"pk": "S", "sk": "S"}
    assert spec.tables["orders"].stream == "NEW_AND_OLD_IMAGES"
    dlq = spec.functions["resize-dlq"]
    assert (dlq.memory, dlq.timeout, dlq.retries, dlq.max_event_age, dlq.architecture) == (
        128, 3, 2, 21600, "x86_64")
    assert dlq.reserved_concurrency is None and dlq.events == []


def test_environment_scalars_become_strings(project: Path) -> None:
    # Given numbers and booleans as environment values
    spec_path = write(project, edited("{DEST_BUCKET: thumbs}",
                                      "{COUNT: 3, RATIO: 0.5, DEBUG: true, NAME: '010'}"))
    # When the spec is loaded
    environment = load_spec(spec_path).functions["resize"].environment
    # Then they are strings, booleans spelled as CloudFormation spells them
    assert environment == {"COUNT": "3", "RATIO": "0.5", "DEBUG": "true", "NAME": "010"}


def test_the_built_in_dead_letter_list_is_a_valid_target(project: Path) -> None:
    spec_path = write(project, edited("on_failure: resize-dlq", "on_failure: dlq"))
    assert load_spec(spec_path).functions["resize"].on_failure == "dlq"


BAD_FIELDS = [
    # (what is replaced, by what, the field named, words the reason must hold)
    ("memory: 256", "memory: 64", "functions.resize.memory", "between 128 and 10240 (got 64)"),
    ("memory: 256", "memory: true", "functions.resize.memory", "integer"),
    ("timeout: 10", "timeout: 901", "functions.resize.timeout", "between 1 and 900"),
    ("retries: 2", "retries: 3", "functions.resize.retries", "between 0 and 2"),
    ("max_event_age: 21600", "max_event_age: 30", "functions.resize.max_event_age",
     "between 60 and 21600"),
    ("reserved_concurrency: 10", "reserved_concurrency: -1",
     "functions.resize.reserved_concurrency", "greater than or equal to 0"),
    ("runtime: python3.11", "runtime: python3.8", "functions.resize.runtime", "python3.14"),
    ("architecture: x86_64", "architecture: x86", "functions.resize.architecture", "arm64"),
    ("handler: app.handler", "handler: app", "functions.resize.handler", "module.function"),
    ("code: ./functions/resize", "code: ./functions/missing", "functions.resize.code",
     "not a folder"),
    ("DEST_BUCKET: thumbs", "AWS_REGION: eu-west-1", "functions.resize.environment.AWS_REGION",
     "reserved by Lambda"),
    ("DEST_BUCKET: thumbs", "AWS_LAMBDA_FUNCTION_NAME: x",
     "functions.resize.environment.AWS_LAMBDA_FUNCTION_NAME", "reserved by Lambda"),
    ("DEST_BUCKET: thumbs", "_HANDLER: x", "functions.resize.environment._HANDLER",
     "reserved by Lambda"),
    ("DEST_BUCKET: thumbs", "_PRIVATE: x", "functions.resize.environment._PRIVATE",
     "start with a letter"),
    ("DEST_BUCKET: thumbs", "2FAST: x", "functions.resize.environment.2FAST",
     "start with a letter"),
    ("DEST_BUCKET: thumbs", "EMPTY: ", "functions.resize.environment.EMPTY", "''"),
    ("DEST_BUCKET: thumbs", "LIST: [1]", "functions.resize.environment.LIST", "string"),
    ("DEST_BUCKET: thumbs", "on: x", "functions.resize.environment.True", "quote it"),
    ("on_failure: resize-dlq", "on_failure: nowhere", "functions.resize.on_failure",
     "neither a function of this spec nor 'dlq'"),
    ("bucket: uploads", "bucket: photos", "functions.resize.events[0].s3.bucket",
     "not declared: add it under buckets:"),
    ('events: ["s3:ObjectCreated:*"]', 'events: ["s3:ObjectCreated"]',
     "functions.resize.events[0].s3.events", "not an S3 event type"),
    ('events: ["s3:ObjectCreated:*"]', "events: []", "functions.resize.events[0].s3.events",
     "at least one"),
    ("table: orders", "table: invoices", "functions.resize.events[1].dynamodb.table",
     "not declared: add it under tables:"),
    (", stream: NEW_AND_OLD_IMAGES", "", "functions.resize.events[1].dynamodb.table",
     "has no stream"),
    ("batch_size: 10", "batch_size: 10001", "functions.resize.events[1].dynamodb.batch_size",
     "between 1 and 10000"),
    ("batch_size: 10", "maximum_record_age: 30",
     "functions.resize.events[1].dynamodb.maximum_record_age", "-1 or between 60 and 604800"),
    ("starting_position: LATEST", "starting_position: AT_TIMESTAMP",
     "functions.resize.events[1].dynamodb.starting_position", "TRIM_HORIZON"),
    ("batch_size: 10", "on_failure: nowhere",
     "functions.resize.events[1].dynamodb.on_failure", "neither a function"),
    ("method: GET", "method: FETCH", "functions.resize.events[2].http.method", "'ANY'"),
    ('path: "/thumbs/{id}"', "path: thumbs", "functions.resize.events[2].http.path",
     "must start with /"),
    ('path: "/thumbs/{id}"', 'path: "/a/{proxy+}/b"', "functions.resize.events[2].http.path",
     "last segment"),
    ("method: GET", 'method: GET, payload_format: "3.0"',
     "functions.resize.events[2].http.payload_format", "'2.0'"),
    ("- http:", "- sqs:", "functions.resize.events[2]", "unknown event source sqs"),
    ("  resize-dlq:", "  dlq:", "functions.dlq", "reserved"),
    ("  resize-dlq:", "  'no spaces':", "functions.no spaces", "letters, digits, hyphens"),
    ("buckets: [uploads, thumbs]", "buckets: [uploads, Thumbs]", "buckets[1]",
     "not a valid S3 bucket name"),
    ("buckets: [uploads, thumbs]", "buckets: [uploads, thumbs, uploads]", "buckets",
     "more than once"),
    ("keys: {pk: S, sk: S}", "keys: {pk: S, sk: S, extra: N}", "tables.orders.keys",
     "1 or 2 attributes"),
    ("keys: {pk: S, sk: S}", "keys: {pk: X}", "tables.orders.keys.pk", "'S', 'N' or 'B'"),
    ("stream: NEW_AND_OLD_IMAGES", "stream: ALL", "tables.orders.stream", "KEYS_ONLY"),
]


@pytest.mark.parametrize(("old", "new", "field", "words"), BAD_FIELDS,
                         ids=[case[2] + ":" + case[1] for case in BAD_FIELDS])
def test_a_bad_field_is_named_with_the_reason(project: Path, old: str, new: str, field: str,
                                              words: str) -> None:
    # Given the good spec with one field made bad
    spec_path = write(project, edited(old, new))
    # When it is loaded
    error = rejection(spec_path)
    # Then the error names the file, the field's dotted path and why
    assert error.file == str(spec_path)
    assert error.field == field
    assert words in error.reason
    assert str(error).startswith(f"{spec_path}: {field}: ")


def test_an_unknown_key_is_refused_with_a_spelling_hint(project: Path) -> None:
    # Given a typo in a field name
    spec_path = write(project, edited("memory: 256", "memroy: 256"))
    # When it is loaded
    error = rejection(spec_path)
    # Then the misspelt key is named and the intended one suggested
    assert error.field == "functions.resize.memroy"
    assert "unknown field" in error.reason and "'memory'" in error.reason


def test_an_unknown_key_inside_a_trigger_is_refused(project: Path) -> None:
    spec_path = write(project, edited("batch_size: 10", "batch_sise: 10"))
    error = rejection(spec_path)
    assert error.field == "functions.resize.events[1].dynamodb.batch_sise"
    assert "'batch_size'" in error.reason


def test_several_problems_are_listed_and_the_first_is_the_field(project: Path) -> None:
    # Given two bad fields
    spec_path = write(project, edited("memory: 256", "memory: 64").replace(
        "timeout: 10", "timeout: 0"))
    # When it is loaded
    error = rejection(spec_path)
    # Then the first is the field and both are in the message
    assert error.field == "functions.resize.memory"
    assert "functions.resize.timeout" in error.reason and "between 1 and 900" in error.reason


def test_two_functions_cannot_claim_the_same_route(project: Path) -> None:
    # Given a second function routed on the same method and path shape
    spec_path = write(project, edited(
        "    code: ./functions/resize\nbuckets",
        "    code: ./functions/resize\n"
        "    events: [{http: {method: get, path: '/thumbs/{name}'}}]\nbuckets"))
    # When it is loaded
    error = rejection(spec_path)
    # Then the second declaration is named, with where the route is already taken
    assert error.field == "functions.resize-dlq.events[0].http.path"
    assert "functions.resize.events[2]" in error.reason


def test_a_missing_required_field_is_named(project: Path) -> None:
    spec_path = write(project, edited("    handler: app.handler\n", ""))
    error = rejection(spec_path)
    assert error.field == "functions.resize.handler"
    assert "required" in error.reason


def test_an_event_needs_exactly_one_source(project: Path) -> None:
    spec_path = write(project, edited('- http: {method: GET, path: "/thumbs/{id}"}',
                                      '- {http: {method: GET, path: /x}, s3: {bucket: uploads}}'))
    error = rejection(spec_path)
    assert error.field == "functions.resize.events[2]"
    assert "exactly one" in error.reason


def test_yaml_syntax_errors_name_the_line_and_column(project: Path) -> None:
    # Given a second colon on line 7
    spec_path = write(project, edited("timeout: 10", "timeout: 10: 20"))
    # When it is loaded
    error = rejection(spec_path)
    # Then the error says where the YAML broke and what YAML expected
    assert error.file == str(spec_path) and error.field == ""
    assert "invalid YAML at line 7, column 16" in error.reason
    assert "mapping values are not allowed" in error.reason


def test_an_unquoted_brace_path_gets_a_quoting_hint(project: Path) -> None:
    # Given the route path unquoted inside a flow mapping, which YAML cannot parse
    spec_path = write(project, edited('path: "/thumbs/{id}"', "path: /thumbs/{id}"))
    # When it is loaded
    error = rejection(spec_path)
    # Then the line is named and the fix suggested
    assert "line 17" in error.reason and "quote" in error.reason


def test_a_repeated_key_is_an_error_not_a_silent_overwrite(project: Path) -> None:
    # Given a function declared twice (PyYAML would keep only the last)
    spec_path = write(project, edited("  resize-dlq:", "  resize:"))
    # When it is loaded
    error = rejection(spec_path)
    # Then the duplicate and its line are named
    assert "duplicate key 'resize'" in error.reason and "line 18" in error.reason


@pytest.mark.parametrize(("text", "words"), [
    ("", "empty"),
    ("# only a comment\n", "empty"),
    ("- resize\n", "must be a mapping"),
    ("just text\n", "must be a mapping"),
])
def test_an_empty_or_non_mapping_file_is_refused(project: Path, text: str, words: str) -> None:
    spec_path = write(project, text)
    error = rejection(spec_path)
    assert error.file == str(spec_path) and error.field == ""
    assert words in error.reason


def test_a_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    error = rejection(tmp_path / "nope.yaml")
    assert error.file == str(tmp_path / "nope.yaml")
    assert "no such file" in error.reason


def test_base_dir_cannot_be_set_from_the_file(project: Path) -> None:
    spec_path = write(project, "base_dir: /etc\n" + GOOD)
    error = rejection(spec_path)
    assert error.field == "base_dir" and "unknown field" in error.reason


def test_code_is_resolved_against_the_spec_folder_not_the_working_directory(
        project: Path, tmp_path_factory: pytest.TempPathFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the working directory is somewhere else
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    # When the spec is loaded by absolute path
    spec = load_spec(write(project, GOOD))
    # Then code still points beside the spec file
    assert spec.functions["resize"].code == (project / "functions" / "resize").resolve()


# Arbitrary documents: a spec or a SpecError naming the file, never a traceback

SPEC_WORDS = ["functions", "buckets", "tables", "handler", "code", "runtime", "memory", "timeout",
              "environment", "events", "s3", "dynamodb", "http", "bucket", "table", "keys",
              "stream", "method", "path", "on_failure", "retries", "base_dir", "resize", "pk"]
yaml_scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
                | st.sampled_from(["app.handler", "./functions/resize", "S", "NEW_IMAGE", "GET",
                                   "/thumbs/{id}", "python3.11", "s3:ObjectCreated:*", "uploads",
                                   "resize-dlq", "/", ".."]))
yaml_documents = st.recursive(
    yaml_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(SPEC_WORDS) | st.text(max_size=5) | st.integers() | st.booleans(),
        inner, max_size=4),
    max_leaves=20)
# Whole texts too: YAML's own syntax, anchors and aliases (`&a [*a]`), tags, odd characters.
yaml_texts = st.lists(st.sampled_from(
    ["functions:", "  resize:", "    handler: app.handler", "    code: ./functions/resize",
     "    events: [{s3: {bucket: uploads}}]", "buckets: &b [uploads, *b]", "tables: {t: *b}",
     "a: &a [*a]", "? [1, 2]", ": 3", "!!python/object:os.system x: 1", "- x", "{", "'", "\t",
     "functions: {[1]: 2}", "memory: 1e400", "\x85", "%YAML 1.1", "---", "..."])
    | st.text(max_size=12), max_size=8).map("\n".join)


@settings(max_examples=150, deadline=2_000, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(document=yaml_documents, text=yaml_texts, as_text=st.booleans())
def test_any_yaml_document_is_a_spec_or_a_spec_error_naming_the_file(
        project: Path, document: Any, text: str, as_text: bool) -> None:
    # Given a ripple.yaml holding any YAML document, or any text at all
    spec_path = write(project, text if as_text else yaml.safe_dump(document))
    # When it is loaded
    try:
        spec = load_spec(spec_path)
    except SpecError as error:
        # Then it is refused as a SpecError that names the file
        assert error.file == str(spec_path)
        assert str(error).startswith(str(spec_path))
        return
    # Or it is a spec
    assert isinstance(spec, Spec)
