"""Always fails, to show retries and the dead-letter list."""


def handler(event, context):
    raise RuntimeError(f"cannot process order {event.get('order', '?')}")
