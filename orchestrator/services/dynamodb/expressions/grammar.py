"""The grammar of DynamoDB's expression language, one LALR grammar with a start rule per kind
(condition, update, projection; key conditions are conditions checked for shape afterwards).

Keywords are case-insensitive, function names and attribute names are not; `#name` and `:value`
are placeholders for ExpressionAttributeNames and ExpressionAttributeValues.
"""

GRAMMAR = r"""
// ---- conditions (ConditionExpression, FilterExpression, KeyConditionExpression) ----
?condition: conjunction
          | condition _OR conjunction                -> or_
?conjunction: negation
            | conjunction _AND negation             -> and_
?negation: _NOT negation                            -> not_
         | predicate
?predicate: operand COMPARATOR operand              -> compare
          | operand EQ operand                      -> compare
          | operand _BETWEEN operand _AND operand   -> between
          | operand _IN "(" operand ("," operand)* ")" -> in_
          | function                                -> function_condition
          | "(" condition ")"
?operand: path
        | VALUE                                     -> value
        | function

function: NAME "(" operand ("," operand)* ")"

// ---- document paths, shared by every kind ----
path: name (_DOT name | "[" INDEX "]")*
?name: NAME | NAME_REF

// ---- UpdateExpression ----
update: clause+
?clause: _SET set_action ("," set_action)*          -> set_clause
       | _REMOVE path ("," path)*                   -> remove_clause
       | _ADD path value ("," path value)*          -> add_clause
       | _DELETE path value ("," path value)*       -> delete_clause
set_action: path EQ set_value
?set_value: set_operand
          | set_operand PLUS set_operand            -> arithmetic
          | set_operand MINUS set_operand           -> arithmetic
?set_operand: path
            | VALUE                                 -> value
            | function
value: VALUE

// ---- ProjectionExpression ----
projection: path ("," path)*

_OR: "OR"i
_AND: "AND"i
_NOT: "NOT"i
_BETWEEN: "BETWEEN"i
_IN: "IN"i
_SET: "SET"i
_REMOVE: "REMOVE"i
_ADD: "ADD"i
_DELETE: "DELETE"i
_DOT: "."
PLUS: "+"
MINUS: "-"
EQ: "="
COMPARATOR: "<>" | "<=" | ">=" | "<" | ">"
NAME: /[A-Za-z_][A-Za-z0-9_]*/i
NAME_REF: /#[A-Za-z0-9_]+/
VALUE: /:[A-Za-z0-9_]+/
INDEX: /[0-9]+/

%import common.WS
%ignore WS
"""

START_RULES = ["condition", "update", "projection"]
