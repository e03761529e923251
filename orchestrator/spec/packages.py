"""Turns a spec's functions into deployable packages: a code archive and its configuration."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.packaging import code_sha256, zip_directory
from orchestrator.settings import get_settings
from orchestrator.spec import Spec


@dataclass
class Package:
    config: FunctionConfig
    archive: bytes


def package_spec(spec: Spec) -> list[Package]:
    """Zip and hash every function's code; raises before anything is uploaded."""
    region = get_settings().region
    packages = []
    for name, function in spec.functions.items():
        archive = zip_directory(function.code)
        config = FunctionConfig(
            name=name,
            handler=function.handler,
            runtime=function.runtime,
            memory=function.memory,
            timeout=function.timeout,
            environment=dict(function.environment),
            reserved_concurrency=function.reserved_concurrency,
            retries=function.retries,
            max_event_age=function.max_event_age,
            on_failure=function.on_failure,
            architecture=function.architecture,
            events=[event.model_dump(mode="json", exclude_none=True) for event in function.events],
            code_sha256=code_sha256(archive),
            code_size=len(archive),
            region=region,
        )
        packages.append(Package(config, archive))
    return packages
