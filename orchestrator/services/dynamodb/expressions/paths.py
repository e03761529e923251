"""Document paths on items: read, write, remove and project (`a.b[0]`)."""

from __future__ import annotations

import copy
from typing import Any

from orchestrator.services.dynamodb.errors import ValidationError
from orchestrator.services.dynamodb.expressions.ast import Path
from orchestrator.services.dynamodb.types import AttributeValue, Item

INVALID_FOR_UPDATE = "The document path provided in the update expression is invalid for update"


def get_path(item: Item, path: Path) -> AttributeValue | None:
    """The value at `path`, or None when any step of it is missing or of the wrong type."""
    first, *rest = path.elements
    value: AttributeValue | None = item.get(str(first))
    for element in rest:
        if value is None:
            return None
        if isinstance(element, int):
            members = value.get("L")
            value = members[element] if members is not None and element < len(members) else None
        else:
            members_map = value.get("M")
            value = members_map.get(element) if members_map is not None else None
    return value


def _parent(item: Item, path: Path) -> Any:
    """The container (a dict of names or a list) that holds the path's last element."""
    container: Any = item
    for element in path.elements[:-1]:
        if isinstance(container, dict):
            value = container.get(element) if isinstance(element, str) else None
        elif isinstance(element, int) and element < len(container):
            value = container[element]
        else:
            value = None
        if value is None:
            raise ValidationError(INVALID_FOR_UPDATE)
        if "M" in value and isinstance(element, str | int):
            container = value["M"]
        elif "L" in value:
            container = value["L"]
        else:
            raise ValidationError(INVALID_FOR_UPDATE)
    return container


def set_path(item: Item, path: Path, value: AttributeValue) -> None:
    """Write `value` at `path` in place; a list index past the end appends, as DynamoDB does."""
    container = _parent(item, path)
    last = path.elements[-1]
    if isinstance(container, dict) and isinstance(last, str):
        container[last] = value
    elif isinstance(container, list) and isinstance(last, int):
        if last < len(container):
            container[last] = value
        else:
            container.append(value)
    else:
        raise ValidationError(INVALID_FOR_UPDATE)


def remove_path(item: Item, path: Path) -> None:
    """Remove the value at `path` in place; a missing last element is not an error."""
    container = _parent(item, path)
    last = path.elements[-1]
    if isinstance(container, dict) and isinstance(last, str):
        container.pop(last, None)
    elif isinstance(container, list) and isinstance(last, int):
        if last < len(container):
            del container[last]
    else:
        raise ValidationError(INVALID_FOR_UPDATE)


def overlap(one: Path, two: Path) -> bool:
    shorter = min(len(one.elements), len(two.elements))
    return one.elements[:shorter] == two.elements[:shorter]


def check_no_overlap(paths: list[Path], kind: str) -> None:
    """DynamoDB refuses two paths of one expression when one is a prefix of the other; the pair
    named is the first in the expression's order. Indexed by prefix, not pair by pair: an
    expression of n paths costs n × depth, not n² (a 4 KB REMOVE holds ~2,000 paths)."""
    first_with: dict[tuple[Any, ...], int] = {}  # elements → first path that is exactly them
    first_under: dict[tuple[Any, ...], int] = {}  # elements → first path strictly below them
    found: tuple[int, int] | None = None
    for index, path in enumerate(paths):
        elements = path.elements
        prefixes = [elements[:length] for length in range(1, len(elements) + 1)]
        earlier = [first_with[prefix] for prefix in prefixes if prefix in first_with]
        if elements in first_under:
            earlier.append(first_under[elements])
        if earlier and (found is None or min(earlier) < found[0]):
            found = (min(earlier), index)
        first_with.setdefault(elements, index)
        for prefix in prefixes[:-1]:
            first_under.setdefault(prefix, index)
    if found is not None:
        one, two = paths[found[0]], paths[found[1]]
        verb = "conflict" if one == two else "overlap"
        raise ValidationError(
            f"Invalid {kind}: Two document paths {verb} with each other; must remove or "
            f"rewrite one of these paths; path one: {one}, path two: {two}")


class _Picked:
    """A value picked whole by a projection path (a leaf of the projection tree)."""

    def __init__(self, value: AttributeValue) -> None:
        self.value = value


def project(item: Item, paths: tuple[Path, ...] | list[Path]) -> Item:
    """Only the attributes `paths` name; list elements picked by index keep their order."""
    tree: dict[Any, Any] = {}
    for path in paths:
        value = get_path(item, path)
        if value is None:
            continue
        node = tree
        for element in path.elements[:-1]:
            node = node.setdefault(element, {})
            if isinstance(node, _Picked):
                break
        else:
            node[path.elements[-1]] = _Picked(copy.deepcopy(value))
    return {str(name): _rebuild(item[str(name)], sub) for name, sub in tree.items()}


def _rebuild(original: AttributeValue, node: Any) -> AttributeValue:
    if isinstance(node, _Picked):
        return node.value
    if "L" in original:
        return {"L": [_rebuild(original["L"][index], node[index]) for index in sorted(node)]}
    return {"M": {name: _rebuild(original["M"][name], sub) for name, sub in node.items()}}
