"""X-Ray filter expressions: `service("resize") { fault }`, `responsetime > 1 AND NOT error`,
`annotation.k = "v"`, `edge("a", "b")`, `http.url CONTAINS "/v2/"`.

`parse` reads an expression with a real grammar (lark, LALR) into a small tree of tests;
`TraceFilter.matches` evaluates it against the `TraceFacts` of one trace. Keywords are
case-insensitive, `NOT`/`!` binds tighter than `AND`, `AND` tighter than `OR`, and two tests
side by side mean `AND` (`ok !partial duration < 3`), as in X-Ray.
"""

from tracing.filters.facts import EdgeFacts, Facts, ServiceFacts, TraceFacts, Value
from tracing.filters.parser import FilterError, parse

__all__ = ["EdgeFacts", "Facts", "FilterError", "ServiceFacts", "TraceFacts", "Value", "parse"]
