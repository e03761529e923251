"""Text to AST: the lark LALR parser, DynamoDB's syntax-error messages and the checks that need
no placeholder values (function names, arity, where a function may stand).

DynamoDB's limits come first, before the tree is built: 4 KB of text and 300 operators or
functions. Parentheses add no node, so the operator cap also bounds how deep the tree is — the
walks over it (placeholders, evaluation) recurse, and a 4 KB `NOT NOT NOT …` would not fit.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.visitors import Transformer_NonRecursive

from orchestrator.services.dynamodb.errors import ValidationError
from orchestrator.services.dynamodb.expressions import ast
from orchestrator.services.dynamodb.expressions.grammar import GRAMMAR, START_RULES

_PARSER = Lark(GRAMMAR, parser="lalr", start=START_RULES, maybe_placeholders=False)

ARITY = {"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2,
         "begins_with": 2, "contains": 2, "size": 1, "if_not_exists": 2, "list_append": 2}
CONDITION_FUNCTIONS = {"attribute_exists", "attribute_not_exists", "attribute_type",
                       "begins_with", "contains"}
UPDATE_FUNCTIONS = {"if_not_exists", "list_append"}
MAX_EXPRESSION_BYTES = 4096
MAX_OPERATORS = 300
# Parse-tree nodes that are an operator or a function call (a function used as a condition is
# the `function` node inside `function_condition`, counted once).
OPERATOR_NODES = {"or_", "and_", "not_", "compare", "between", "in_", "function", "arithmetic"}
# Only these kinds tell the size in the message (as DynamoDB's own messages do).
SIZE_TOLD = {"ConditionExpression", "FilterExpression"}
NEEDS_PATH = {"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with",
              "contains", "size", "if_not_exists"}


class _ToAst(Transformer_NonRecursive):
    def path(self, children: list[Token]) -> ast.Path:
        return ast.Path(tuple(int(c) if c.type == "INDEX" else str(c) for c in children))

    def value(self, children: list[Token]) -> ast.ValueRef:
        return ast.ValueRef(str(children[0]))

    def function(self, children: list[Any]) -> ast.Function:
        return ast.Function(str(children[0]), tuple(children[1:]))

    def arithmetic(self, children: list[Any]) -> ast.Arithmetic:
        return ast.Arithmetic(str(children[1]), children[0], children[2])

    def compare(self, children: list[Any]) -> ast.Compare:
        return ast.Compare(str(children[1]), children[0], children[2])

    def between(self, children: list[Any]) -> ast.Between:
        return ast.Between(*children)

    def in_(self, children: list[Any]) -> ast.In:
        return ast.In(children[0], tuple(children[1:]))

    def function_condition(self, children: list[Any]) -> ast.FunctionCondition:
        return ast.FunctionCondition(children[0])

    def and_(self, children: list[Any]) -> ast.And:
        return ast.And(*children)

    def or_(self, children: list[Any]) -> ast.Or:
        return ast.Or(*children)

    def not_(self, children: list[Any]) -> ast.Not:
        return ast.Not(children[0])

    def set_action(self, children: list[Any]) -> ast.SetAction:
        return ast.SetAction(children[0], children[2])

    def set_clause(self, children: list[Any]) -> tuple[str, list[ast.Action]]:
        return "SET", children

    def remove_clause(self, children: list[Any]) -> tuple[str, list[ast.Action]]:
        return "REMOVE", [ast.RemoveAction(path) for path in children]

    def add_clause(self, children: list[Any]) -> tuple[str, list[ast.Action]]:
        pairs = zip(children[::2], children[1::2], strict=True)
        return "ADD", [ast.AddAction(path, value) for path, value in pairs]

    def delete_clause(self, children: list[Any]) -> tuple[str, list[ast.Action]]:
        pairs = zip(children[::2], children[1::2], strict=True)
        return "DELETE", [ast.DeleteAction(path, value) for path, value in pairs]

    def update(self, clauses: list[tuple[str, list[ast.Action]]]) -> ast.Update:
        seen: set[str] = set()
        actions: list[ast.Action] = []
        for name, clause_actions in clauses:
            if name in seen:
                raise _Invalid(f'The "{name}" section can only be used once in an update '
                               "expression;")
            seen.add(name)
            actions.extend(clause_actions)
        return ast.Update(tuple(actions))

    def projection(self, children: list[ast.Path]) -> ast.Projection:
        return ast.Projection(tuple(children))


class _Invalid(Exception):
    """A semantic error found while building the AST; becomes a ValidationException."""


def _near(text: str, error: UnexpectedInput) -> tuple[str, str]:
    """The offending token and the text around it, as DynamoDB's messages show them."""
    tokens: list[Token] = []
    try:
        for token in _PARSER.lex(text):
            tokens.append(token)
    except UnexpectedCharacters:
        pass
    if isinstance(error, UnexpectedToken) and error.token.type == "$END":
        start = tokens[-2].start_pos if len(tokens) >= 2 else 0
        return "<EOF>", text[start or 0:].strip()
    position = error.pos_in_stream if error.pos_in_stream is not None else 0
    bad = str(error.token) if isinstance(error, UnexpectedToken) else text[position]
    before = [t for t in tokens if (t.start_pos or 0) < position]
    after = [t for t in tokens if (t.start_pos or 0) > position]
    start = before[-1].start_pos if before else position
    end = after[0].end_pos if after else position + len(bad)
    return bad, text[start or 0:end or len(text)]


@lru_cache(maxsize=1024)
def _parse(text: str, start: str, kind: str) -> Any:
    if not text.strip():
        raise ValidationError(f"Invalid {kind}: The expression can not be empty;")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_EXPRESSION_BYTES:
        told = f" expression size: {size}" if kind in SIZE_TOLD else ""
        raise ValidationError(f"Invalid {kind}: Expression size has exceeded the maximum "
                              f"allowed size;{told}")
    try:
        tree = _PARSER.parse(text, start=start)
        _check_operator_count(tree, kind)
        result = _ToAst().transform(tree)
    except UnexpectedInput as error:
        token, near = _near(text, error)
        raise ValidationError(f'Invalid {kind}: Syntax error; token: "{token}", near: "{near}"')\
            from None
    except _Invalid as error:
        raise ValidationError(f"Invalid {kind}: {error}") from None
    except Exception as error:  # lark wraps errors raised inside the transformer
        cause = getattr(error, "orig_exc", None)
        if isinstance(cause, _Invalid):
            raise ValidationError(f"Invalid {kind}: {cause}") from None
        raise
    _check_functions(result, kind, start)
    return result


def _check_operator_count(tree: Tree[Token], kind: str) -> None:
    count = sum(1 for node in tree.iter_subtrees() if node.data in OPERATOR_NODES)
    if count > MAX_OPERATORS:
        raise ValidationError(f"Invalid {kind}: The expression contains too many operators; "
                              f"operator count: {count}")


def parse_condition(text: str, kind: str = "ConditionExpression") -> ast.Condition:
    """ConditionExpression, FilterExpression or KeyConditionExpression (`kind` names it)."""
    result: ast.Condition = _parse(text, "condition", kind)
    return result


def parse_update(text: str) -> ast.Update:
    result: ast.Update = _parse(text, "update", "UpdateExpression")
    return result


def parse_projection(text: str) -> ast.Projection:
    result: ast.Projection = _parse(text, "projection", "ProjectionExpression")
    return result


def _check_functions(node: Any, kind: str, start: str) -> None:
    """Every function call in `node`: a known name, its arity, allowed where it stands."""
    for function, as_condition in _functions(node, as_condition=False):
        name = function.name
        invalid = f"Invalid {kind}: "
        if name not in ARITY:
            raise ValidationError(f"{invalid}Invalid function name; function: {name}")
        allowed = (UPDATE_FUNCTIONS if start == "update"
                   else CONDITION_FUNCTIONS if as_condition else {"size"})
        if name not in allowed:
            where = "an update" if start == "update" else "a condition"
            if start != "update" and (name in CONDITION_FUNCTIONS or name == "size"):
                raise ValidationError(f"{invalid}The function is not allowed to be used this way "
                                      f"in an expression; function: {name}")
            raise ValidationError(f"{invalid}The function is not allowed in {where} "
                                  f"expression; function: {name}")
        if len(function.args) != ARITY[name]:
            raise ValidationError(f"{invalid}Incorrect number of operands for operator or "
                                  f"function; operator or function: {name}, number of "
                                  f"operands: {len(function.args)}")
        if name in NEEDS_PATH and not isinstance(function.args[0], ast.Path):
            raise ValidationError(f"{invalid}Operator or function requires a document path; "
                                  f"operator or function: {name}")


def _functions(node: Any, as_condition: bool) -> list[tuple[ast.Function, bool]]:
    found: list[tuple[ast.Function, bool]] = []
    if isinstance(node, ast.FunctionCondition):
        found.append((node.function, True))
        node = node.function.args
        for child in node:
            found.extend(_functions(child, False))
        return found
    if isinstance(node, ast.Function):
        found.append((node, as_condition))
    if isinstance(node, tuple | list):
        children = list(node)
    elif hasattr(node, "__dataclass_fields__"):
        children = [getattr(node, name) for name in node.__dataclass_fields__]
    else:
        return found
    for child in children:
        found.extend(_functions(child, False))
    return found
