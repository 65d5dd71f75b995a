"""The condition language of Argo Rollouts' analysis (expr-lang), the subset templates use, evaluated safely.

Argo compiles `successCondition` / `failureCondition` with github.com/expr-lang/expr
against an environment holding `result` and a few helpers (`asInt`, `asFloat`,
`isNaN`, `isInf`, `isNil`, `default`). This module parses that language into a
tree and evaluates it; it never calls Python's `eval`, and a name outside the
environment is an error, as in Argo ("unknown name x").

Supported: literals (ints, floats, strings, true/false/nil, arrays), `result`
and member access / indexing / slicing, arithmetic (`+ - * / % ** ^`),
comparisons, `in` / `not in`, `contains`, `startsWith`, `endsWith`, `matches`,
`&&`/`and`, `||`/`or`, `!`/`not`, `?:`, `??`, and the builtins `len`, `abs`,
`int`, `float`, `string`, `max`, `min`, `sum`, `all`, `any`, `none`, `one`,
`filter`, `map`, `count` with predicates written `{# > 1}`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Condition", "ExprError", "compile_condition", "evaluate_condition"]


class ExprError(Exception):
    """A condition that can't be compiled or evaluated: Argo records the measurement as Error."""


# ---------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|0[xX][0-9a-fA-F]+|\d+)
    | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
    | (?P<op>\*\*|==|!=|<=|>=|&&|\|\||\?\?|\?\.|\.\.|[-+*/%^<>!?:.,()\[\]{}\#])
    )""",
    re.VERBOSE,
)
_WORD_OPS = {"and", "or", "not", "in", "matches", "contains", "startsWith", "endsWith"}


@dataclass(frozen=True)
class Token:
    kind: str  # num, str, name, op, end
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ExprError(f"unexpected character {text[pos:].lstrip()[:1]!r} at column {pos + 1}")
        kind = m.lastgroup or "op"
        value = m.group(kind)
        if kind == "name" and value in _WORD_OPS:
            kind = "op"
        tokens.append(Token(kind, value, m.start(kind) + 1))
        pos = m.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


# ---------------------------------------------------------------- values

Env = Mapping[str, Any]
Node = Callable[[Env], Any]


def _type(value: Any) -> str:
    """expr-lang's (Go's) name for a value's type, for messages."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, Sequence):
        return "array"
    return type(value).__name__


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bool(value: Any, op: str) -> bool:
    if not isinstance(value, bool):
        raise ExprError(f"invalid operation: {op} (mismatched type {_type(value)}: expected bool)")
    return value


def _compare(op: str, a: Any, b: Any) -> bool:
    if op in ("==", "!="):
        if (
            (_is_num(a) and _is_num(b))
            or a is None
            or b is None
            or type(a) is type(b)
            or (_seq(a) and _seq(b))
        ):
            equal = a == b
        else:
            raise ExprError(f"invalid operation: {op} (mismatched types {_type(a)} and {_type(b)})")
        return equal if op == "==" else not equal
    if not ((_is_num(a) and _is_num(b)) or (isinstance(a, str) and isinstance(b, str))):
        raise ExprError(f"invalid operation: {op} (mismatched types {_type(a)} and {_type(b)})")
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _seq(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _arith(op: str, a: Any, b: Any) -> Any:
    if op == "+" and isinstance(a, str) and isinstance(b, str):
        return a + b
    if op == "+" and _seq(a) and _seq(b):
        return [*a, *b]
    if not (_is_num(a) and _is_num(b)):
        raise ExprError(f"invalid operation: {op} (mismatched types {_type(a)} and {_type(b)})")
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":  # expr-lang: `/` always gives a float64, and x/0 is ±Inf or NaN as in Go
        x, y = float(a), float(b)
        if y == 0:
            return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x)
        return x / y
    if op == "%":
        if not (isinstance(a, int) and isinstance(b, int)):
            raise ExprError(f"invalid operation: % (mismatched types {_type(a)} and {_type(b)})")
        if b == 0:
            raise ExprError("integer divide by zero")
        return int(math.fmod(a, b))  # Go truncates toward zero
    try:
        return float(a) ** float(b)
    except (OverflowError, ZeroDivisionError):
        return math.inf


def _index(base: Any, key: Any) -> Any:
    if isinstance(base, Mapping):
        return base.get(key)
    if _seq(base) or isinstance(base, str):
        if not isinstance(key, int) or isinstance(key, bool):
            raise ExprError(f"array elements can only be selected using an integer (got {_type(key)})")
        n = len(base)
        i = key + n if key < 0 else key
        if not 0 <= i < n:
            raise ExprError(f"index out of range: {key} (array length is {n})")
        return base[i]
    if base is None:
        raise ExprError(f"cannot fetch {key!r} from nil")
    raise ExprError(f"type {_type(base)} has no field {key}")


def _member(base: Any, name: str, optional: bool) -> Any:
    if base is None and optional:
        return None
    if isinstance(base, Mapping):
        return base.get(name)
    raise ExprError(f"type {_type(base)} has no field {name}")


# ---------------------------------------------------------------- builtins


def _as_int(value: Any) -> int:
    if _is_num(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value, 10)
        except ValueError:
            raise ExprError(f'strconv.ParseInt: parsing "{value}": invalid syntax') from None
    raise ExprError(f"asInt() not supported on {_type(value)} {value}")


def _as_float(value: Any) -> float:
    if _is_num(value):
        return float(value)
    if isinstance(value, str):
        try:
            if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(?i:inf|infinity|nan)", value):
                raise ValueError
            return float(value)
        except ValueError:
            raise ExprError(f'strconv.ParseFloat: parsing "{value}": invalid syntax') from None
    raise ExprError(f"asFloat() not supported on {_type(value)} {value}")


def _float_arg(name: str, value: Any) -> float:
    if not _is_num(value):
        raise ExprError(f"{name}() expects a float64, got {_type(value)}")
    return float(value)


def _len(value: Any) -> int:
    if isinstance(value, str | Mapping) or _seq(value):
        return len(value)
    raise ExprError(f"invalid argument for len (type {_type(value)})")


def _numbers(name: str, args: tuple[Any, ...]) -> list[Any]:
    items = list(args[0]) if len(args) == 1 and _seq(args[0]) else list(args)
    if not items or not all(_is_num(x) for x in items):
        raise ExprError(f"invalid argument for {name}")
    return items


def _builtins(result: Any) -> dict[str, Callable[..., Any]]:
    """The functions Argo puts in the environment, plus expr-lang's own builtins.

    Argo's `isNil(x)` and `default(x, d)` look at `result` whatever `x` is (they
    close over it), and so do these."""
    return {
        **_STATIC,
        "isNil": lambda _x: result is None,
        "default": lambda _x, d: d if result is None else result,
    }


_STATIC: dict[str, Callable[..., Any]] = {
    "asInt": _as_int,
    "asFloat": _as_float,
    "isNaN": lambda x: math.isnan(_float_arg("isNaN", x)),
    "isInf": lambda x: math.isinf(_float_arg("isInf", x)),
    "len": _len,
    "abs": lambda x: abs(x) if _is_num(x) else _raise(f"invalid argument for abs (type {_type(x)})"),
    "int": _as_int,
    "float": _as_float,
    "string": lambda x: str(x).lower() if isinstance(x, bool) else str(x),
    "max": lambda *a: max(_numbers("max", a)),
    "min": lambda *a: min(_numbers("min", a)),
    "sum": lambda a: sum(_numbers("sum", (a,))) if _seq(a) and a else 0,
}


def _raise(message: str) -> Any:
    raise ExprError(message)


_PREDICATES = {"all", "any", "none", "one", "filter", "map", "count"}


def _apply_predicate(name: str, items: Any, predicate: Callable[[Any], Any]) -> Any:
    if not _seq(items):
        raise ExprError(f"{name}() expects an array, got {_type(items)}")
    if name == "map":
        return [predicate(x) for x in items]
    flags = [_bool(predicate(x), name) for x in items]
    if name == "all":
        return all(flags)
    if name == "any":
        return any(flags)
    if name == "none":
        return not any(flags)
    if name == "one":
        return sum(flags) == 1
    if name == "count":
        return sum(flags)
    return [x for x, keep in zip(items, flags, strict=True) if keep]


# ---------------------------------------------------------------- parser (Pratt) → closures

_BINARY = {
    "??": 5, "||": 10, "or": 10, "&&": 15, "and": 15,
    "==": 20, "!=": 20, "<": 20, ">": 20, "<=": 20, ">=": 20,
    "in": 20, "matches": 20, "contains": 20, "startsWith": 20, "endsWith": 20,
    "+": 30, "-": 30, "*": 60, "/": 60, "%": 60, "**": 100, "^": 100,
}  # fmt: skip
_UNARY_BP = 50  # `!`/`not`; unary minus binds tighter (90)


class _Parser:
    def __init__(self, text: str, names: frozenset[str]) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.names = names

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self, text: str | None = None) -> Token:
        tok = self.tok
        if text is not None and tok.text != text:
            got = tok.text or "end of condition"
            raise ExprError(f"expected {text!r} at column {tok.pos}, got {got!r}")
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.expression(0)
        if self.tok.kind != "end":
            raise ExprError(f"unexpected token {self.tok.text!r} at column {self.tok.pos}")
        return node

    def expression(self, min_bp: int) -> Node:
        left = self.prefix()
        while True:
            tok = self.tok
            op = tok.text if tok.kind == "op" else ""
            if op == "?" and min_bp == 0:
                left = self.ternary(left)
                continue
            if op == "not" and self.tokens[self.i + 1].text == "in" and min_bp < 20:
                self.i += 2
                right = self.expression(21)
                left = self._binary("not in", left, right)
                continue
            bp = _BINARY.get(op)
            if bp is None or bp <= min_bp:
                return left
            self.i += 1
            right_bp = bp - 1 if op in ("**", "^") else bp  # power is right-associative
            right = self.expression(right_bp)
            left = self._binary(op, left, right)

    def ternary(self, cond: Node) -> Node:
        self.take("?")
        yes = self.expression(0)
        self.take(":")
        no = self.expression(0)
        return lambda env: yes(env) if _bool(cond(env), "?:") else no(env)

    def prefix(self) -> Node:
        tok = self.take()
        if tok.kind == "num":
            value: Any = int(tok.text, 16) if tok.text[:2].lower() == "0x" else _number(tok.text)
            return self.postfix(lambda env: value)
        if tok.kind == "str":
            text = _unquote(tok.text)
            return self.postfix(lambda env: text)
        if tok.text in ("!", "not"):
            operand = self.expression(_UNARY_BP)
            return lambda env: not _bool(operand(env), "!")
        if tok.text in ("-", "+"):
            operand = self.expression(90)
            negate = tok.text == "-"

            def unary(env: Env) -> Any:
                v = operand(env)
                if not _is_num(v):
                    raise ExprError(f"invalid operation: {tok.text} (mismatched type {_type(v)})")
                return -v if negate else v

            return unary
        if tok.text == "(":
            inner = self.expression(0)
            self.take(")")
            return self.postfix(inner)
        if tok.text == "[":
            items = self.arguments("]")
            return self.postfix(lambda env: [item(env) for item in items])
        if tok.text == "#":
            return self.postfix(lambda env: env["#"])
        if tok.kind == "name":
            return self.postfix(self.name(tok))
        raise ExprError(f"unexpected token {tok.text or 'end of condition'!r} at column {tok.pos}")

    def name(self, tok: Token) -> Node:
        name = tok.text
        if name in ("true", "false"):
            const = name == "true"
            return lambda env: const
        if name == "nil":
            return lambda env: None
        if self.tok.text == "(":
            self.take("(")
            if name in _PREDICATES:
                items = self.expression(0)
                self.take(",")
                predicate = self.closure()
                self.take(")")
                return lambda env: _apply_predicate(name, items(env), lambda x: predicate({**env, "#": x}))
            args = self.arguments(")")
            if name not in self.names:
                raise ExprError(f"unknown func {name}")

            def call(env: Env) -> Any:
                values = [a(env) for a in args]
                try:
                    return env[name](*values)
                except TypeError:
                    raise ExprError(f"wrong number of arguments for {name}() ({len(values)})") from None

            return call
        if name not in self.names:
            raise ExprError(f"unknown name {name}")
        return lambda env: env[name]

    def closure(self) -> Node:
        self.take("{")
        body = self.expression(0)
        self.take("}")
        return body

    def arguments(self, close: str) -> list[Node]:
        args: list[Node] = []
        while self.tok.text != close:
            args.append(self.expression(0))
            if self.tok.text != ",":
                break
            self.take(",")
        self.take(close)
        return args

    def postfix(self, node: Node) -> Node:
        while True:
            if self.tok.text in (".", "?."):
                optional = self.take().text == "?."
                field = self.take()
                if field.kind != "name":
                    raise ExprError(f"expected a field name at column {field.pos}")
                if self.tok.text == "(":
                    raise ExprError(f"type has no method {field.text}")
                node = self._member(node, field.text, optional)
            elif self.tok.text == "[":
                self.take("[")
                node = self.subscript(node)
            else:
                return node

    def subscript(self, base: Node) -> Node:
        start: Node | None = None
        if self.tok.text != ":":
            start = self.expression(0)
            if self.tok.text == "]":
                self.take("]")
                key = start
                return lambda env: _index(base(env), key(env))
        self.take(":")
        end = None if self.tok.text == "]" else self.expression(0)
        self.take("]")

        def sliced(env: Env) -> Any:
            value = base(env)
            if not (_seq(value) or isinstance(value, str)):
                raise ExprError(f"cannot slice {_type(value)}")
            lo = start(env) if start else 0
            hi = end(env) if end else len(value)
            return value[lo:hi]

        return sliced

    @staticmethod
    def _member(base: Node, name: str, optional: bool) -> Node:
        return lambda env: _member(base(env), name, optional)

    @staticmethod
    def _binary(op: str, left: Node, right: Node) -> Node:
        if op in ("&&", "and"):
            return lambda env: _bool(left(env), op) and _bool(right(env), op)
        if op in ("||", "or"):
            return lambda env: _bool(left(env), op) or _bool(right(env), op)
        if op == "??":

            def coalesce(env: Env) -> Any:
                value = left(env)
                return right(env) if value is None else value

            return coalesce
        if op in ("==", "!=", "<", ">", "<=", ">="):
            return lambda env: _compare(op, left(env), right(env))
        if op in ("in", "not in"):

            def member(env: Env) -> bool:
                needle, hay = left(env), right(env)
                if isinstance(hay, Mapping):
                    found = needle in hay
                elif _seq(hay):
                    found = any((_is_num(needle) and _is_num(x) and needle == x) or needle == x for x in hay)
                else:
                    raise ExprError(f"invalid operation: in (mismatched type {_type(hay)})")
                return found if op == "in" else not found

            return member
        if op in ("matches", "contains", "startsWith", "endsWith"):

            def text(env: Env) -> bool:
                a, b = left(env), right(env)
                if not (isinstance(a, str) and isinstance(b, str)):
                    raise ExprError(f"invalid operation: {op} (mismatched types {_type(a)} and {_type(b)})")
                if op == "matches":
                    return re.search(b, a) is not None
                if op == "contains":
                    return b in a
                return a.startswith(b) if op == "startsWith" else a.endswith(b)

            return text
        arith = "**" if op == "^" else op
        return lambda env: _arith(arith, left(env), right(env))


def _number(text: str) -> int | float:
    return float(text) if any(c in text for c in ".eE") else int(text)


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


# ---------------------------------------------------------------- public API

_ENV_NAMES = frozenset({"result", *_builtins(None)})


@dataclass(frozen=True)
class Condition:
    """A compiled condition: `evaluate(result)` gives True/False or raises ExprError."""

    text: str
    node: Node

    def evaluate(self, result: Any) -> bool:
        env = {"result": result, **_builtins(result)}
        try:
            value = self.node(env)
        except ExprError:
            raise
        except (RecursionError, OverflowError, ValueError, TypeError, re.error) as exc:
            raise ExprError(f"evaluation failed: {exc}") from None
        if not isinstance(value, bool):
            raise ExprError(f"expected bool, but got {_type(value)}")
        return value


def compile_condition(text: str) -> Condition:
    """Parse a success/failure condition; ExprError (as Argo's compile error) if it is not valid."""
    if len(text) > 10_000:
        raise ExprError("condition longer than 10,000 characters")
    try:
        return Condition(text, _Parser(text, _ENV_NAMES).parse())
    except RecursionError:
        raise ExprError("condition nested too deeply") from None


def evaluate_condition(result: Any, text: str) -> bool:
    """Argo's `EvalCondition`: compile and run `text` with `result`; ExprError on any error."""
    return compile_condition(text).evaluate(result)
