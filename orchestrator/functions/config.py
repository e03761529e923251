"""A deployed function's configuration, as the registry stores it and workers read it."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from pydantic import BaseModel, Field

from orchestrator.settings import ACCOUNT_ID

DEAD_LETTER_LIST = "dlq"


class FunctionConfig(BaseModel):
    name: str
    handler: str
    runtime: str = "python3.11"
    memory: int = 128
    timeout: int = 3
    environment: dict[str, str] = Field(default_factory=dict)
    reserved_concurrency: int | None = None
    retries: int = 2
    max_event_age: int = 21600
    on_failure: str | None = None
    architecture: str = "x86_64"
    events: list[dict[str, Any]] = Field(default_factory=list)
    code_sha256: str
    code_size: int = 0
    region: str = "us-east-1"
    last_modified: str = ""
    revision: str = ""  # set by the registry at deploy; see `version`
    role: str = ""  # an IAM role ARN, recorded and shown, never enforced
    description: str = ""
    # "$LATEST", or the number of the published version this snapshot is (functions/versions.py)
    lambda_version: str = "$LATEST"

    @property
    def version(self) -> str:
        """Changes whenever code or configuration changes: environments are keyed by it."""
        return self.revision or self.compute_revision()

    def compute_revision(self) -> str:
        # What the code runs with; a version published from $LATEST shares its environments.
        settings = self.model_dump(exclude={"last_modified", "events", "revision", "role",
                                            "description", "lambda_version"})
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()
        return digest[:16]

    @property
    def environment_key(self) -> str:
        """What a warm environment runs: this code and configuration, as this version (each
        published version has environments of its own, as on Lambda)."""
        return f"{self.version}:{self.lambda_version}"

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.name}"

    @property
    def qualified_arn(self) -> str:
        """The ARN with this snapshot's version (`…:function:name:3`); $LATEST's is unqualified."""
        if self.lambda_version == "$LATEST":
            return self.arn
        return f"{self.arn}:{self.lambda_version}"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"

    def to_lambda(self) -> dict[str, Any]:
        """The function in Lambda's GetFunctionConfiguration shape."""
        return {
            "FunctionName": self.name,
            "FunctionArn": self.qualified_arn,
            "Runtime": self.runtime,
            "Handler": self.handler,
            "CodeSize": self.code_size,
            "CodeSha256": _base64(self.code_sha256),
            "MemorySize": self.memory,
            "Timeout": self.timeout,
            "Environment": {"Variables": dict(self.environment)},
            "Architectures": [self.architecture],
            "Version": self.lambda_version,
            "Description": self.description,
            **({"Role": self.role} if self.role else {}),
            "RevisionId": self.version,
            "LastModified": self.last_modified,
            "State": "Active",
            "PackageType": "Zip",
        }


def _base64(hex_digest: str) -> str:
    """A SHA-256 as Lambda's CodeSha256 gives it: base64, not hex."""
    try:
        return base64.b64encode(bytes.fromhex(hex_digest)).decode()
    except ValueError:
        return hex_digest
