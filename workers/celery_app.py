"""The Celery app shared by producers (endpoint, event sources) and workers."""

from __future__ import annotations

from celery import Celery

from orchestrator import keys
from orchestrator.settings import Settings

# Above the longest function timeout (900 s) plus queueing, so a slow task is never redelivered.
VISIBILITY_TIMEOUT_SECONDS = 3600

app = Celery("ripple")


def configure(settings: Settings) -> Celery:
    """Point the app at ripple's Redis with at-least-once delivery settings."""
    app.conf.update(
        broker_url=settings.redis_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue=keys.QUEUE_ASYNC,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
    )
    return app
