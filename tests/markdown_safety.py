"""A static check: no text that could come from a user reaches a Markdown-rendering call
unless it went through `format.markdown_text`.

Streamlit renders Markdown (links and images included) in st.markdown, captions, alerts,
headers, metric labels, values and help, tab, expander and widget labels, and radio/pill
options. This checker reads the source and treats every expression as user text unless it
can prove otherwise: literals, module constants (UPPER_CASE), numbers formatted in an
f-string (`{n:,}`), the number formatters, `markdown_text(...)`, and names, f-strings,
joins and conditionals built only from those. It follows the code across functions:

- a function whose parameter reaches a sink is a sink itself (its callers are checked), and
- a function all of whose `return`s are safe returns safe text.

It is conservative on purpose: when it cannot prove a value safe, the fix is to wrap the
value in `format.markdown_text`, never to teach the checker about the value.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

# Streamlit calls whose text arguments render as Markdown: positions and keyword names.
_LABEL = ((0,), ("label", "help"))
STREAMLIT_SINKS: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    **{name: ((0,), ("body", "help")) for name in (
        "markdown", "caption", "info", "warning", "error", "success", "toast", "title",
        "header", "subheader")},
    "write": ((0, 1, 2, 3, 4, 5), ()),
    "metric": ((0, 1, 2), ("label", "value", "delta", "help")),
    "tabs": ((0,), ("tabs",)),
    **{name: _LABEL for name in (
        "expander", "popover", "button", "download_button", "checkbox", "toggle",
        "selectbox", "multiselect", "slider", "select_slider", "number_input", "text_input",
        "text_area", "date_input", "file_uploader", "link_button", "form_submit_button",
        "color_picker", "time_input", "status", "spinner")},
    # option labels render as Markdown too
    **{name: ((0,), ("label", "help", "format_func", "captions")) for name in (
        "radio", "segmented_control", "pills")},
    "page_link": ((), ("label", "help")),
    "progress": ((1,), ("text",)),  # the text above a progress bar renders Markdown too
}
# Receivers that are not Streamlit even though they have .info/.write/.error.
NOT_STREAMLIT = {"_LOG", "log", "logger", "logging", "sys", "out", "buffer", "handle", "fh"}
# Functions that return text safe for Markdown: the escaper and the number formatters.
SAFE_FUNCTIONS = {"markdown_text", "count", "percent", "points", "days", "money",
                  "money_change", "p_value", "symbol", "len", "int", "float", "round", "abs"}

# Methods that keep safe text safe (on a safe receiver, with safe arguments).
TEXT_METHODS = {"split", "strip", "lower", "upper", "capitalize", "title", "replace", "values",
                "keys", "items", "rstrip", "lstrip"}


@dataclass
class Finding:
    path: str
    line: int
    call: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.call}(...) gets {self.text!r}"


@dataclass
class _Function:
    node: ast.FunctionDef
    path: str
    params: list[str] = field(default_factory=list)


class Checker:
    """Runs the analysis over a set of modules; `findings()` lists every unsafe call."""

    def __init__(self, sources: dict[str, str]) -> None:
        self.trees = {path: ast.parse(text) for path, text in sources.items()}
        self.functions: dict[str, list[_Function]] = {}
        for path, tree in self.trees.items():
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    params = [a.arg for a in [*node.args.posonlyargs, *node.args.args,
                                              *node.args.kwonlyargs]]
                    self.functions.setdefault(node.name, []).append(
                        _Function(node, path, params))
        self.sinks: dict[str, set[str]] = {}  # project function -> its sink parameters
        self.safe_returning: set[str] = set()
        self._solve()

    def _solve(self) -> None:
        """Grow the sinks and the safe-returning functions until nothing changes."""
        changed = True
        while changed:
            changed = False
            for name, defs in self.functions.items():
                if name not in self.safe_returning and all(self._returns_safe(f) for f in defs):
                    self.safe_returning.add(name)
                    changed = True
                for f in defs:
                    for _call, args in self._sink_calls(f.node):
                        for arg in args:
                            needed = self._params_needed(arg, f)
                            if needed - self.sinks.get(name, set()):
                                self.sinks.setdefault(name, set()).update(needed)
                                changed = True

    def _returns_safe(self, f: _Function) -> bool:
        returns = [n.value for n in _own_nodes(f.node)
                   if isinstance(n, ast.Return) and n.value is not None]
        return bool(returns) and all(_Scope(self, f, set()).safe(r) for r in returns)

    def _params_needed(self, arg: ast.expr, f: _Function) -> set[str]:
        """The parameters that must be safe for `arg` to be: none when it is safe anyway, or
        unsafe whatever is passed (findings() reports those)."""
        if not f.params or _Scope(self, f, set()).safe(arg):
            return set()
        if not _Scope(self, f, set(f.params)).safe(arg):
            return set()
        return {p for p in f.params if not _Scope(self, f, set(f.params) - {p}).safe(arg)}

    def _sink_calls(self, root: ast.AST):
        """(call, its Markdown arguments) for every sink call in root's own body."""
        for node in _own_nodes(root):
            if isinstance(node, ast.Call) and (spec := self._spec(node)) is not None:
                positions, keywords = spec
                args = [a for i, a in enumerate(node.args)
                        if i in positions and not isinstance(a, ast.Starred)]
                args += [k.value for k in node.keywords if k.arg in keywords]
                yield node, args

    def _spec(self, call: ast.Call) -> tuple[tuple[int, ...], tuple[str, ...]] | None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in STREAMLIT_SINKS \
                and ast.unparse(func.value).split(".")[0] not in NOT_STREAMLIT:
            return STREAMLIT_SINKS[func.attr]
        if isinstance(func, ast.Call) and _called_name(func) == "getattr" and func.args \
                and ast.unparse(func.args[0]) == "st":  # getattr(st, kind)(text): any of them
            return (0,), ("body",)
        name = _called_name(call)
        if self.sinks.get(name or ""):
            params = self.functions[name][0].params
            return (tuple(i for i, p in enumerate(params) if p in self.sinks[name]),
                    tuple(self.sinks[name]))
        return None

    def findings(self) -> list[Finding]:
        out = []
        for path, tree in self.trees.items():
            scopes = [_Function(tree, path)] + [f for defs in self.functions.values()  # type: ignore[arg-type]
                                                for f in defs if f.path == path]
            for f in scopes:
                trusted = self.sinks.get(getattr(f.node, "name", ""), set())
                for call, args in self._sink_calls(f.node):
                    for arg in args:
                        if not _Scope(self, f, trusted).safe(arg):
                            out.append(Finding(path, arg.lineno, ast.unparse(call.func),
                                               ast.unparse(arg)[:120]))
        return sorted(out, key=lambda x: (x.path, x.line))


class _Scope:
    """Safety of expressions inside one function (or a module's top level)."""

    def __init__(self, checker: Checker, f: _Function, trusted: set[str],
                 unsafe: frozenset[str] = frozenset(), depth: int = 0) -> None:
        self.checker, self.f, self.trusted = checker, f, trusted
        self.unsafe, self.depth = unsafe, depth

    def _inner(self, unsafe: set[str] = frozenset(), safe: set[str] = frozenset()) -> _Scope:
        return _Scope(self.checker, self.f, self.trusted | safe, self.unsafe | unsafe - safe,
                      self.depth + 1)

    def safe(self, node: ast.expr | None) -> bool:
        if node is None:
            return True
        if self.depth > 12:
            return False
        match node:
            case ast.Constant():
                return True
            case ast.JoinedStr(values=values):
                return all(self.safe(v) for v in values)
            case ast.FormattedValue(value=value, conversion=conversion, format_spec=spec):
                # a format spec ({n:,} {x:.1%} {d:%d %b %Y}) only formats numbers and dates
                return (spec is not None and conversion == -1) or self.safe(value)
            case ast.BinOp(left=left, right=right):
                return self.safe(left) and self.safe(right)
            case ast.IfExp(body=body, orelse=orelse):
                return self.safe(body) and self.safe(orelse)
            case ast.BoolOp(values=values) | ast.List(elts=values) | ast.Tuple(elts=values):
                return all(self.safe(v) for v in values)
            case ast.Compare() | ast.UnaryOp(op=ast.Not()):
                return True  # a boolean
            case ast.Name(id=name):
                return self._name_safe(name)
            case ast.Attribute(value=value, attr=attr):
                # a module constant, or a constant mapping's .get used as a format_func
                return attr.isupper() or (attr in ("get", "__getitem__") and self.safe(value))
            case ast.Subscript(value=value):
                return self.safe(value)  # an entry of a constant
            case ast.Dict(values=values):
                return all(self.safe(v) for v in values)
            case ast.Lambda(args=args, body=body):
                return self._inner({a.arg for a in args.args}).safe(body)
            case ast.GeneratorExp(elt=elt, generators=gens) | ast.ListComp(
                    elt=elt, generators=gens):
                # a name taken from a safe collection is safe; from anything else it is not
                bound = {g: {t.id for t in ast.walk(g.target) if isinstance(t, ast.Name)}
                         for g in gens}
                safe = {n for g, names in bound.items() if self.safe(g.iter) for n in names}
                unsafe = {n for names in bound.values() for n in names} - safe
                return self._inner(unsafe, safe).safe(elt)
            case ast.Call():
                return self._call_safe(node)
        return False

    def _call_safe(self, call: ast.Call) -> bool:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "join":
            return self.safe(func.value) and all(self.safe(a) for a in call.args)
        if isinstance(func, ast.Attribute) and func.attr == "get":
            if isinstance(func.value, ast.Dict):  # {"a": "A"}.get as a format_func
                return all(self.safe(v) for v in func.value.values) and all(
                    self.safe(a) for a in call.args[1:])
            if _constant_name(func.value):
                return all(self.safe(a) for a in call.args[1:])
        if isinstance(func, ast.Attribute) and func.attr in TEXT_METHODS:
            return self.safe(func.value) and all(self.safe(a) for a in call.args)
        name = _called_name(call)
        return name in SAFE_FUNCTIONS or name in self.checker.safe_returning

    def _name_safe(self, name: str) -> bool:
        if name in self.unsafe:
            return False
        if name.isupper() or name in self.trusted:
            return True
        if name in self.f.params:
            return False
        values = _assignments(self.f.node, name)
        if values == [] and name in self.checker.functions:  # not a local: a function
            return name in self.checker.safe_returning  # (passed as a format_func)
        # `x = [m for m in x if …]` refers to itself: safe when every other value is
        inner = self._inner(safe={name})
        return bool(values) and all(inner.safe(v) for v in values)


def _own_nodes(root: ast.AST):
    """Nodes of root's body, not of the functions defined inside it (scopes of their own)."""
    todo = list(ast.iter_child_nodes(root))
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            todo.extend(ast.iter_child_nodes(node))


def _assignments(scope: ast.AST, name: str) -> list[ast.expr] | None:
    """Every value assigned to `name` in the scope; None when it is also bound another way
    (a loop, a with, an unpacking, an except) that the checker does not follow."""
    values: list[ast.expr] = []
    for node in _own_nodes(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    values.append(node.value)
                elif _binds(target, name):
                    if (value := _unpacked(target, node.value, name)) is None:
                        return None
                    values.append(value)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and _binds(node.target, name):
            if not isinstance(node.target, ast.Name) or node.value is None:
                return None
            values.append(node.value)
        elif isinstance(node, ast.For | ast.comprehension) and _binds(node.target, name):
            if (value := _iterated(node.target, node.iter, name)) is None:
                return None
            values.append(value)
        elif (isinstance(node, ast.withitem) and _binds(node.optional_vars, name)) or (
                isinstance(node, ast.ExceptHandler) and node.name == name):
            return None
        elif isinstance(node, ast.NamedExpr) and node.target.id == name:
            values.append(node.value)
    return values


def _unpacked(target: ast.AST, value: ast.expr, name: str) -> ast.expr | None:
    """What `name` gets from `a, b = x, y` or `a, b = (safe for ...)`; None: cannot say."""
    if not isinstance(target, ast.Tuple) or not all(isinstance(t, ast.Name) for t in target.elts):
        return None
    if isinstance(value, ast.Tuple) and len(value.elts) == len(target.elts):
        return value.elts[[t.id for t in target.elts].index(name)]
    if isinstance(value, ast.GeneratorExp | ast.ListComp):
        return value  # every element is what `name` may be
    return None


def _iterated(target: ast.AST, iterable: ast.expr, name: str) -> ast.expr | None:
    """The collection `name` takes its values from in `for name in (...)` or
    `for x, name in zip(xs, (...))`; None: cannot say."""
    if isinstance(target, ast.Name) and isinstance(iterable, ast.Tuple | ast.List):
        return iterable
    if not isinstance(target, ast.Tuple) or not isinstance(iterable, ast.Call):
        return None
    if _called_name(iterable) == "zip" and len(iterable.args) == len(target.elts):
        for t, arg in zip(target.elts, iterable.args, strict=True):
            if _binds(t, name):
                return arg  # every element of that collection is what `name` may be
    if _called_name(iterable) == "enumerate" and len(target.elts) == 2 and iterable.args \
            and _binds(target.elts[1], name):
        return iterable.args[0]
    return None


def _binds(target: ast.AST | None, name: str) -> bool:
    return target is not None and any(isinstance(n, ast.Name) and n.id == name
                                      for n in ast.walk(target))


def _constant_name(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return node.id.isupper()
    return isinstance(node, ast.Attribute) and node.attr.isupper()


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def project_sources(root: Path) -> dict[str, str]:
    """Every module that renders pages: handoff/*.py, pages/*.py and Home.py."""
    paths = [*sorted((root / "handoff").glob("*.py")), *sorted((root / "pages").glob("*.py")),
             root / "Home.py"]
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in paths}
