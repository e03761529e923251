"""DynamoDB's expression language: a lark grammar, placeholder resolution and evaluation."""

from orchestrator.services.dynamodb.expressions.evaluate import holds
from orchestrator.services.dynamodb.expressions.parser import (
    parse_condition,
    parse_projection,
    parse_update,
)
from orchestrator.services.dynamodb.expressions.paths import project
from orchestrator.services.dynamodb.expressions.resolve import Placeholders
from orchestrator.services.dynamodb.expressions.update import apply_update, check_update

__all__ = ["Placeholders", "apply_update", "check_update", "holds", "parse_condition",
           "parse_projection", "parse_update", "project"]
