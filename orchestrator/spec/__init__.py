"""`ripple.yaml`: functions, their triggers, buckets and tables, checked before anything deploys.

Every problem is a SpecError naming the file, the dotted path of the field
(`functions.resize.events[0].s3.bucket`) and why; when there are several, `field` is the first
one's and the message lists them all. Unknown keys are errors, so typos are caught.

Environment values may be YAML strings, numbers or booleans: they become strings, as
CloudFormation makes them (booleans as `true`/`false`). Quote a value to keep its exact text
(YAML reads `010` as 8 and `1e3` as 1000.0). Empty (null) values are refused: write `''`.
"""

from pathlib import Path

from orchestrator.spec.fields import S3_EVENTS
from orchestrator.spec.load import load_spec
from orchestrator.spec.models import Spec
from orchestrator.spec.sam import is_template, load_template

__all__ = ["S3_EVENTS", "Spec", "load_any", "load_spec", "load_template"]


def load_any(path: Path) -> Spec:
    """A ripple.yaml, or a SAM template.yaml (told apart by its Resources: section)."""
    return load_template(path) if is_template(path) else load_spec(path)
