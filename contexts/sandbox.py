"""The Jinja2 sandbox that profile templates run in: memory and time are bounded, deny by default.

A template is user input evaluated on the server, at save time and for every instance at launch.
Jinja's own sandbox stops attribute escapes but not `{{ 'a' * 10**9 }}`, so on top of it:

- only the statements profile values need (output, if, for, set, with); no macros, call blocks,
  includes, imports, inheritance, block assignments, filter blocks or recursive loops;
- operators that grow values (`*`, `**`, `%`, `+` and `~`) are refused before they compute a
  result over MAX_LENGTH characters (lists: as written out) or a number over MAX_INT_BITS;
- only harmless filters, with the same size checks on those that grow text; only the
  read-only methods of text, lists and mappings in _METHODS; globals are `range` and `dict`;
- a budget per evaluation (a whole document's templates share one): MAX_LOOP_ITERATIONS loop
  iterations, MAX_WORK characters or items taken or produced by operators, filters, calls and
  output, and MAX_SECONDS, checked at each loop iteration and operation: what a loop body does
  without an operator (slicing, `in`, comparing) is not counted, but costs time;
- a value's output is streamed and stopped past MAX_LENGTH characters.

Every refusal is a `TemplateRefused` with a plain message. docs/templates.md describes the limits.
"""

from __future__ import annotations

import contextvars
import functools
import time
import types
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.compiler import CodeGenerator
from jinja2.filters import FILTERS, make_attrgetter, sync_do_join, sync_do_slice, sync_do_sum
from jinja2.runtime import LoopContext, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import pass_environment, pass_eval_context

MAX_LENGTH = 256 * 1024  # characters of any text, list or mapping a template builds, and of its output
MAX_INT_BITS = 4096  # about 1,200 decimal digits
MAX_RANGE = 100_000  # items of range()
MAX_LOOP_ITERATIONS = 100_000  # for-loop iterations in one evaluation (a document's, at save or launch)
MAX_WORK = 1_000_000  # characters and items taken or produced in one evaluation
MAX_SECONDS = 1.0  # of one evaluation; far above what any real profile takes (milliseconds)
MAX_JSON_INDENT = 8


class TemplateRefused(TemplateError):
    """A template that would exceed a limit, or uses what templates may not."""


class Budget:
    """What one evaluation has spent: the template code reaches it through `_budget`."""

    __slots__ = ("iterations", "work", "deadline")

    def __init__(self):
        self.iterations = 0
        self.work = 0
        self.deadline = time.monotonic() + MAX_SECONDS

    @property
    def exhausted(self) -> bool:
        over_time = time.monotonic() > self.deadline
        return over_time or self.iterations > MAX_LOOP_ITERATIONS or self.work > MAX_WORK

    def spend(self, amount: int) -> None:
        self.work += amount
        if self.work > MAX_WORK:
            raise TemplateRefused(
                f"the templates do too much work (over the limit of {MAX_WORK:,} characters and items)"
            )
        self._check_time()

    def iterate(self, iterable: Iterable) -> Iterator:
        for item in iterable:
            self.iterations += 1
            if self.iterations > MAX_LOOP_ITERATIONS:
                raise TemplateRefused(
                    f"the templates run over the limit of {MAX_LOOP_ITERATIONS:,} loop iterations"
                )
            self._check_time()
            yield item

    def _check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateRefused(f"the templates take over the limit of {MAX_SECONDS:g} second to evaluate")


_budget: contextvars.ContextVar[Budget] = contextvars.ContextVar("template_budget")


class evaluation:
    """`with evaluation() as budget:` makes a budget unless one is running (then shares it)."""

    def __enter__(self) -> Budget:
        budget = _budget.get(None)
        self._token = None
        if budget is None:
            budget = Budget()
            self._token = _budget.set(budget)
        return budget

    def __exit__(self, *exc_info) -> None:
        if self._token is not None:
            _budget.reset(self._token)


# ------------------------------------------------------------------------------------ sizes


def written_size(value: Any, limit: int = MAX_LENGTH) -> int:
    """About how many characters `value` takes written out; stops counting once over `limit`, so
    the cost is at most `limit` steps however much a list repeats one big text."""
    if isinstance(value, str):
        return len(value)
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 4
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 2
        elif isinstance(item, Mapping):
            total += 2 + 2 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            total += 2 + 2 * len(item)
            stack.extend(item)
        else:
            total += 24
        if total > limit:
            break
    return total


def _too_long(size: int | None = None) -> TemplateRefused:
    if size is None:
        return TemplateRefused(f"the result would be over the limit of {MAX_LENGTH:,} characters")
    return TemplateRefused(f"the result would be {size:,} characters; the limit is {MAX_LENGTH:,}")


def _check_length(size: int, exact: bool = True) -> None:
    if size > MAX_LENGTH:
        raise _too_long(size if exact else None)


def _too_large_number() -> TemplateRefused:
    return TemplateRefused(f"the number would be over the limit of {MAX_INT_BITS:,} bits")


def charge(value: Any) -> Any:
    """Refuse a result over the limits; spend its size from the budget."""
    if isinstance(value, str):
        size = len(value)
    elif isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            raise _too_large_number()
        size = 1
    elif isinstance(value, list | tuple | Mapping):
        size = written_size(value)
        _check_length(size, exact=False)
    else:
        size = 1
    _check_length(size)
    _budget.get().spend(size + 1)
    return value


def charge_input(value: Any) -> None:
    """Spend the size of what a filter or method goes through (a filter over 100,000 items in a
    loop of 100,000 iterations would otherwise cost 10**10 steps on one budget unit each)."""
    if isinstance(value, str | list | tuple | dict | range):
        _budget.get().spend(len(value))


# --------------------------------------------------------------------------------- operators


def _is_sequence(value: Any) -> bool:
    return isinstance(value, str | list | tuple)


def _is_whole(value: Any) -> bool:
    return isinstance(value, int)


def _check_multiply(left: Any, right: Any) -> None:
    if _is_whole(left) and _is_whole(right):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
            raise _too_large_number()
        return
    sequence, count = (left, right) if _is_whole(right) else (right, left)
    if _is_sequence(sequence) and _is_whole(count) and count > 0:
        exact = isinstance(sequence, str)
        size = written_size(sequence) * count
        _check_length(size, exact)


def _check_power(base: Any, exponent: Any) -> None:
    # |base| >= 2**(bits - 1): a lower bound, so a result that fits is never refused; what
    # this lets through is at most twice the limit, and `charge` refuses it after.
    whole = _is_whole(base) and _is_whole(exponent) and exponent > 0 and abs(base) > 1
    if whole and exponent * (base.bit_length() - 1) > MAX_INT_BITS:
        raise _too_large_number()


def _check_add(left: Any, right: Any) -> None:
    if _is_sequence(left) and _is_sequence(right):
        exact = isinstance(left, str) and isinstance(right, str)
        _check_length(written_size(left) + written_size(right), exact)


def _check_modulo(left: Any, right: Any) -> None:
    if isinstance(left, str):
        check_printf(left, right)


_BINOP_CHECKS = {"*": _check_multiply, "**": _check_power, "+": _check_add, "%": _check_modulo}


def check_printf(template: str, values: Any) -> None:
    """Refuse `template % values` (printf style) whose widths and values would make it too long."""
    positional = iter(values) if isinstance(values, tuple) else iter((values,))
    total = len(template)
    for key, width, precision, conversion in _printf_conversions(template):
        if conversion == "%":
            continue
        if width == "*":
            width = next(positional, 0)
        if precision == "*":
            precision = next(positional, 0)
        width = abs(width) if isinstance(width, int) else 0
        precision = abs(precision) if isinstance(precision, int) else None
        if width > MAX_LENGTH or (precision or 0) > MAX_LENGTH:
            raise _too_long()
        by_key = key is not None and isinstance(values, Mapping)
        value = values.get(key) if by_key else next(positional, None)
        if conversion in "sra":
            natural = written_size(value)
            natural = natural if precision is None else min(natural, precision)
        elif isinstance(value, int):
            natural = value.bit_length() // 3 + 2 + (precision or 0)
        else:
            natural = 320 + (6 if precision is None else precision)  # a float's %f digits
        total += max(width, natural)
        if total > MAX_LENGTH:
            raise _too_long()


def _printf_conversions(template: str) -> Iterator[tuple[str | None, Any, Any, str]]:
    """(mapping key, width, precision, conversion) of each `%` conversion, read as Python reads it."""
    i, end = 0, len(template)
    while (i := template.find("%", i)) >= 0:
        i += 1
        key = None
        if i < end and template[i] == "(":
            depth, start = 1, i + 1
            i += 1
            while i < end and depth:
                depth += {"(": 1, ")": -1}.get(template[i], 0)
                i += 1
            key = template[start : i - 1]
        while i < end and template[i] in "#0- +":
            i += 1
        width, i = _printf_number(template, i)
        precision = None
        if i < end and template[i] == ".":
            precision, i = _printf_number(template, i + 1)
            precision = precision or 0
        while i < end and template[i] in "hlL":
            i += 1
        conversion = template[i] if i < end else ""
        i += 1
        yield key, width, precision, conversion


def _printf_number(template: str, i: int) -> tuple[Any, int]:
    if i < len(template) and template[i] == "*":
        return "*", i + 1
    start = i
    while i < len(template) and template[i].isdigit():
        i += 1
    digits = template[start:i]
    if not digits:
        return None, i
    return (int(digits) if len(digits) <= 9 else MAX_LENGTH + 1), i


# ----------------------------------------------------------------------------- calls, methods


def _words(text: str) -> list[str]:
    """A list of names written as words, so that a long list stays a paragraph."""
    return text.split()


_STR_METHODS = frozenset(
    _words(
        """
    upper lower strip lstrip rstrip split rsplit splitlines startswith endswith replace join
    capitalize title casefold swapcase isdigit isalpha isalnum isspace isupper islower isdecimal
    isnumeric find rfind index rindex count partition rpartition removeprefix removesuffix
    """
    )
)
# The read-only methods a template may call; `replace` and `join` are checked for size first.
_METHODS: dict[type, frozenset[str]] = {
    str: _STR_METHODS,
    list: frozenset({"index", "count"}),
    tuple: frozenset({"index", "count"}),
    dict: frozenset({"get", "items", "keys", "values"}),
}
_LOOP_METHODS = frozenset({LoopContext.cycle, LoopContext.changed})


def _capped_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateRefused(f"the range would have {len(numbers):,} items; the limit is {MAX_RANGE:,}")
    return numbers


_GLOBALS = {"range": _capped_range, "dict": dict}
# Jinja's other globals: lipsum can be asked for megabytes, and the rest are not needed.
_WITHHELD_GLOBALS = frozenset({"lipsum", "cycler", "joiner", "namespace"})


def _kind(value: Any) -> type | None:
    return next((kind for kind in _METHODS if isinstance(value, kind)), None)


def _is_allowed_callable(value: Any) -> bool:
    if isinstance(value, types.BuiltinMethodType):
        kind = _kind(value.__self__)
        return kind is not None and value.__name__ in _METHODS[kind]
    if isinstance(value, types.MethodType):
        return isinstance(value.__self__, LoopContext) and value.__func__ in _LOOP_METHODS
    return any(value is allowed for allowed in _GLOBALS.values())


def _checked_str_call(method: Any, args: tuple, kwargs: dict) -> tuple:
    """The arguments for a call of a text's method, refused if the result would be too long."""
    text = method.__self__
    if method.__name__ == "replace" and len(args) >= 2:
        _check_replace(text, args[0], args[1], args[2] if len(args) > 2 else kwargs.get("count", -1))
    elif method.__name__ == "join" and args:
        items = list(args[0])  # once: it may be a generator
        size = sum(written_size(item) for item in items) + len(text) * max(len(items) - 1, 0)
        _check_length(size)
        args = (items, *args[1:])
    return args


def _check_replace(text: Any, old: Any, new: Any, count: Any = -1) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
        found = text.count(old)
        if isinstance(count, int) and count >= 0:
            found = min(found, count)
        _check_length(len(text) + found * (len(new) - len(old)))


# ------------------------------------------------------------------------------------ filters


def _charged(function, precheck=None):
    """A filter that refuses oversized results (after `precheck` refused oversized requests)."""
    takes_context = hasattr(function, "jinja_pass_arg")

    @functools.wraps(function)
    def filter_(*args, **kwargs):
        arguments = args[1:] if takes_context else args
        if arguments:
            charge_input(arguments[0])
        if precheck is not None:
            precheck(*arguments, **kwargs)
        return charge(function(*args, **kwargs))

    return filter_


def _precheck_center(value, width=80):
    if isinstance(width, int):
        _check_length(max(width, len(str(value))))


def _precheck_indent(text, width=4, first=False, blank=False):
    indent = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    text = str(text)
    _check_length(len(text) + (len(text.splitlines()) + 1) * indent)


def _precheck_format(value, *args, **kwargs):
    check_printf(str(value), kwargs or args)


def _precheck_replace(text, old, new, count=None):
    _check_replace(str(text), old, new, -1 if count is None else count)


def _precheck_wordwrap(text, width=79, break_long_words=True, wrapstring=None, break_on_hyphens=True):
    text, wrap = str(text), len(wrapstring) if isinstance(wrapstring, str) else 1
    if isinstance(width, int) and width > 0:
        # Each two lines of a greedy wrap hold more than `width` characters.
        _check_length(len(text) + (2 * len(text) // width + 2) * wrap, exact=False)


def _precheck_tojson(value, indent=None):
    if indent is not None and (len(indent) if isinstance(indent, str) else indent) > MAX_JSON_INDENT:
        raise TemplateRefused(f"the filter 'tojson' takes an indent of at most {MAX_JSON_INDENT}")


@pass_eval_context
def _join(eval_ctx, value, d="", attribute=None):
    if attribute is not None:
        value = map(make_attrgetter(eval_ctx.environment, attribute), value)
    charge_input(value)
    parts = [str(item) for item in value]
    _check_length(sum(map(len, parts)) + len(str(d)) * max(len(parts) - 1, 0))
    return charge(sync_do_join(eval_ctx, parts, d))


def _slice(value, slices, fill_with=None):
    if isinstance(slices, int) and slices > MAX_RANGE:
        raise TemplateRefused(f"the filter 'slice' would make {slices:,} slices; the limit is {MAX_RANGE:,}")
    charge_input(value)
    return sync_do_slice(value, slices, fill_with)


@pass_environment
def _sum(environment, iterable, attribute=None, start=0):
    # Summing lists or texts copies the growing total at each step: quadratic.
    if not isinstance(start, int | float):
        raise TemplateRefused("the filter 'sum' adds numbers only")
    charge_input(iterable)
    return charge(sync_do_sum(environment, iterable, attribute, start))


_HARMLESS_FILTERS = _words(
    """
    abs attr capitalize count d default dictsort filesizeformat first float groupby int items last
    length list lower map max min reject rejectattr reverse round select selectattr sort string
    title trim truncate unique upper urlencode wordcount
    """
)
_CHECKED_FILTERS = {
    "center": _precheck_center,
    "format": _precheck_format,
    "indent": _precheck_indent,
    "replace": _precheck_replace,
    "tojson": _precheck_tojson,
    "wordwrap": _precheck_wordwrap,
}
_FILTERS = {
    **{name: _charged(FILTERS[name]) for name in _HARMLESS_FILTERS},
    **{name: _charged(FILTERS[name], check) for name, check in _CHECKED_FILTERS.items()},
    "join": _join,
    "slice": _slice,
    "sum": _sum,
}


# ------------------------------------------------------------------------- the template's code


class _CodeGenerator(CodeGenerator):
    """Jinja's code, with `~` and the iterables of for loops going through the environment."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._loop_iterables: set[int] = set()

    def visit_Concat(self, node: nodes.Concat, frame) -> None:
        # `~` is not an operator Jinja lets a sandbox intercept.
        self.write("environment.bounded_concat((")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")

    def visit_For(self, node: nodes.For, frame) -> None:
        self._loop_iterables.add(id(node.iter))
        super().visit_For(node, frame)

    def visit(self, node: nodes.Node, *args, **kwargs):
        if id(node) not in self._loop_iterables:
            return super().visit(node, *args, **kwargs)
        self._loop_iterables.discard(id(node))
        self.write("environment.counted(")
        super().visit(node, *args, **kwargs)
        self.write(")")
        return None


_ALLOWED_NODES = frozenset(
    getattr(nodes, name)
    for name in _words(
        """
    Template Output TemplateData For If With Assign Name Const Tuple List Dict Pair Keyword CondExpr
    Filter Test Call Getitem Getattr Slice Concat Compare Operand Mul Div FloorDiv Add Sub Mod Pow
    And Or Not Neg Pos
    """
    )
)
_REFUSED_NODES = {
    nodes.Macro: "{% macro %}",
    nodes.CallBlock: "{% call %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from ... import %}",
    nodes.Extends: "{% extends %}",
    nodes.Block: "{% block %}",
    nodes.AssignBlock: "{% set %}...{% endset %} (use {% set name = ... %})",
    nodes.FilterBlock: "{% filter %}",
    nodes.NSRef: "assigning to an attribute",
}


class ProfileEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(_BINOP_CHECKS)

    code_generator_class = _CodeGenerator

    def __init__(self, **options):
        # Without the optimizer, constant expressions are not folded at compile time, where
        # neither the operator checks nor the budget would see them.
        super().__init__(undefined=StrictUndefined, optimized=False, **options)
        self.globals.clear()
        self.globals.update(_GLOBALS)
        self.filters = dict(_FILTERS)

    def limited_tree(self, source: str) -> nodes.Template:
        """The parsed template, refused if it uses what templates may not."""
        tree = self.parse(source)
        stack: list[nodes.Node] = [tree]
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind not in _ALLOWED_NODES:
                what = _REFUSED_NODES.get(kind, f"the template construct {kind.__name__}")
                raise TemplateRefused(f"{what} is not available in templates")
            if kind is nodes.Filter and node.name not in self.filters:
                raise TemplateRefused(f"the filter {node.name!r} is not available in templates")
            if kind is nodes.Test and node.name not in self.tests:
                raise TemplateRefused(f"the test {node.name!r} is not available in templates")
            if kind is nodes.Name and node.ctx == "load" and node.name in _WITHHELD_GLOBALS:
                raise TemplateRefused(f"{node.name!r} is not available in templates")
            if kind is nodes.For and node.recursive:
                raise TemplateRefused("recursive loops are not available in templates")
            stack.extend(node.iter_child_nodes())
        return tree

    # Called from the compiled template code.

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        _BINOP_CHECKS[operator](left, right)
        return charge(self.binop_table[operator](left, right))

    def bounded_concat(self, values: tuple) -> str:
        parts = [str(value) for value in values]
        _check_length(sum(map(len, parts)))
        return charge("".join(parts))

    def counted(self, iterable: Iterable) -> Iterator:
        return _budget.get().iterate(iterable)

    def call(self, context, obj, /, *args, **kwargs):
        if isinstance(obj, Undefined):
            return obj(*args, **kwargs)  # raises the undefined name's own message
        if not _is_allowed_callable(obj):
            raise TemplateRefused(f"{_describe(obj)} is not available in templates")
        if isinstance(obj, types.BuiltinMethodType):
            charge_input(obj.__self__)
            if isinstance(obj.__self__, str):
                args = _checked_str_call(obj, args, kwargs)
        return charge(context.call(obj, *args, **kwargs))

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        return not callable(value) or _is_allowed_callable(value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        kind = _kind(obj) or type(obj)
        is_method = isinstance(getattr(obj, attribute, None), types.BuiltinMethodType | types.MethodType)
        what = "method" if is_method else "attribute"
        return self.undefined(
            f"the {what} {kind.__name__}.{attribute} is not available in templates",
            name=attribute,
            obj=obj,
            exc=TemplateRefused,
        )

    def wrap_str_format(self, value: Any) -> None:
        return None  # str.format and format_map are not allowed methods at all


def _describe(value: Any) -> str:
    if isinstance(value, types.BuiltinMethodType | types.MethodType):
        kind = _kind(value.__self__) or type(value.__self__)
        return f"the method {kind.__name__}.{value.__name__}"
    return f"calling {getattr(value, '__name__', type(value).__name__)!r}"
