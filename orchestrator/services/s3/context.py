"""What every S3 operation works with."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.services.s3.notifications import S3Notifications
from orchestrator.services.s3.store import Store
from orchestrator.services.s3.uploads import Uploads


@dataclass
class S3Context:
    store: Store
    notifications: S3Notifications
    region: str
    uploads: Uploads
