"""The PartiQL DynamoDB accepts, as one LALR grammar: SELECT (from a table or `"table"."index"`,
WHERE), INSERT INTO … VALUE {…}, UPDATE … SET/REMOVE … WHERE, DELETE FROM … WHERE. Keywords are
case-insensitive; double quotes name (tables, attributes), single quotes are strings, `?` is the
next of the request's Parameters, `<<…>>` a set."""

GRAMMAR = r"""
?start: select | insert | update | delete

select: _SELECT columns _FROM target (_WHERE condition)?
columns: "*"                                        -> all_columns
       | path ("," path)*
target: name ("." name)?
insert: _INSERT _INTO target _VALUE value
update: _UPDATE target action+ (_WHERE condition)?
?action: _SET assignment ("," assignment)*          -> set_action
       | _REMOVE path ("," path)*                   -> remove_action
assignment: path "=" operand (SIGN operand)?
delete: _DELETE _FROM target (_WHERE condition)?

?condition: conjunction
          | condition _OR conjunction               -> or_
?conjunction: negation
            | conjunction _AND negation             -> and_
?negation: _NOT negation                            -> not_
         | predicate
?predicate: operand COMPARATOR operand              -> compare
          | operand _BETWEEN operand _AND operand   -> between
          | operand _IN "[" operand ("," operand)* "]" -> in_
          | operand _IS MISSING                     -> missing
          | operand _IS NOT_MISSING                 -> present
          | function
          | "(" condition ")"
function: IDENT "(" operand ("," operand)* ")"
?operand: path | value

path: name ("." name | "[" INT "]")*
?name: IDENT                                        -> ident
     | QUOTED                                       -> quoted

?value: STRING                                      -> string
      | SIGNED_NUMBER                               -> number
      | "?"                                         -> parameter
      | TRUE                                        -> true
      | FALSE                                       -> false
      | NULL                                        -> null
      | "{" [pair ("," pair)*] "}"                  -> map
      | "[" [value ("," value)*] "]"                -> list
      | SET_OPEN value ("," value)* SET_CLOSE       -> set
pair: STRING ":" value

_SELECT: "SELECT"i
_FROM: "FROM"i
_WHERE: "WHERE"i
_INSERT: "INSERT"i
_INTO: "INTO"i
_VALUE: "VALUE"i
_UPDATE: "UPDATE"i
_SET: "SET"i
_REMOVE: "REMOVE"i
_DELETE: "DELETE"i
_AND: "AND"i
_OR: "OR"i
_NOT: "NOT"i
_BETWEEN: "BETWEEN"i
_IN: "IN"i
_IS: "IS"i
MISSING: "MISSING"i
NOT_MISSING: /NOT\s+MISSING/i
TRUE.2: "TRUE"i
FALSE.2: "FALSE"i
NULL.2: "NULL"i
SET_OPEN.3: "<<"
SET_CLOSE.3: ">>"
COMPARATOR: "<>" | "<=" | ">=" | "=" | "<" | ">" | "!="
SIGN: "+" | "-"
IDENT: /[A-Za-z_][A-Za-z0-9_]*/
QUOTED: /"(?:[^"]|"")*"/
STRING: /'(?:[^']|'')*'/
INT: /[0-9]+/
SIGNED_NUMBER: /-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/

%import common.WS
%ignore WS
"""
