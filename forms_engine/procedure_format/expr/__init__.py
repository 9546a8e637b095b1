"""The expression language of procedure files: `show_if`, fee `when` and fee `quantity`.

Source text is tokenized (tokens.py) and parsed by hand (a Pratt parser, parser.py) into a
small tree (nodes.py); nothing is ever handed to Python's eval, compile or ast. The tree is
then compiled once into nested closures (compiler.py, over the runtime values and operations
of values.py and the built-in functions of functions.py), because conditions are evaluated
on every page render for every conditional field. The loader checks each expression against
the types of the procedure's fields (checks.py). `Expr.to_json()` gives the same tree to the
browser evaluator (static/js/expr.js), which must agree with `evaluate` here;
tests/procedure_format/test_expr.py checks that with node.
"""

from .checks import check
from .errors import ExprError
from .expression import MAX_SOURCE_LENGTH, Expr, evaluate, parse
from .functions import FUNCTIONS
from .nodes import MAX_DEPTH
from .tokens import KEYWORDS
from .values import truthy

__all__ = [
    "FUNCTIONS",
    "KEYWORDS",
    "MAX_DEPTH",
    "MAX_SOURCE_LENGTH",
    "Expr",
    "ExprError",
    "check",
    "evaluate",
    "parse",
    "truthy",
]
