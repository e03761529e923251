"""One unit of fanned-out work; also served over HTTP at GET /work/{item} (the stage)."""


def handler(event, context):
    if "routeKey" in event:  # an HTTP API event from the API Gateway stage
        event = {"item": int(event["pathParameters"]["item"]), "of": "http"}
    result = event.get("item", 0) ** 2
    print(f"item {event.get('item')} of {event.get('of')}: {result}")
    return {"item": event.get("item"), "square": result}
