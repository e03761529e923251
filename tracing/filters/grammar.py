"""The grammar of X-Ray filter expressions, for lark's LALR parser."""

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: unary (_AND? unary)*
?unary: _NOT unary -> negation
      | "(" or_expr ")"
      | test
?test: FIELD OP value -> comparison
     | FIELD -> flag
     | _SERVICE "(" [selector] ")" [braces] -> service
     | _EDGE "(" selector "," selector ")" [braces] -> edge
braces: "{" or_expr "}"
?selector: STRING -> name_selector
         | _ID "(" id_arg ("," id_arg)* ")" -> id_selector
id_arg: ID_KEY ":" STRING
?value: STRING -> string
      | NUMBER -> number
      | TRUE -> true
      | FALSE -> false

_OR.3: /or\b/i | "||"
_AND.3: /and\b/i | "&&"
_NOT.3: /not\b/i | "!"
_SERVICE.3: /service(?=\s*\()/i
_EDGE.3: /edge(?=\s*\()/i
_ID.3: /id(?=\s*\()/i
TRUE.3: /true\b/i
FALSE.3: /false\b/i
ID_KEY.3: /(name|type)(?=\s*:)/i
OP.3: "=" | "!=" | "<=" | ">=" | "<" | ">" | /contains\b/i | /beginswith\b/i | /endswith\b/i
FIELD: /annotation\[[^\]]+\]/i | /[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_\-]+)*/
STRING: /"(\\.|[^"\\])*"/
NUMBER: /-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/

%ignore /\s+/
"""
