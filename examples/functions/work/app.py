"""One unit of fanned-out work."""


def handler(event, context):
    result = event.get("item", 0) ** 2
    print(f"item {event.get('item')} of {event.get('of')}: {result}")
    return {"item": event.get("item"), "square": result}
