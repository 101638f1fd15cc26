"""Every error a person may read carries a message the catalogs can translate.

Pages show an `AppError` in the reader's language by looking its `template` up in the
catalogs, so the message must be an `N_("...")` literal (or come from one through a variable)
with its values in `params`. An f-string or a bare literal would stay English on every page.
`RuntimeFailure` messages are exempt: pages never show them.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from beatbun.errors import AppError, InvalidInput, NotFound, RuntimeFailure

SOURCE = Path(__file__).resolve().parents[1] / "src" / "beatbun"
PLACEHOLDER = re.compile(r"%\((\w+)\)")


def _class_bases() -> dict[str, set[str]]:
    bases: dict[str, set[str]] = {}
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                names = {_name(base) for base in node.bases}
                bases.setdefault(node.name, set()).update(names - {None})  # type: ignore[arg-type]
    return bases


def _descendants(root: str, bases: dict[str, set[str]]) -> set[str]:
    found = {root}
    while True:
        more = {name for name, parents in bases.items() if parents & found} - found
        if not more:
            return found
        found |= more


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _shown_error_calls() -> Iterator[tuple[str, ast.Call, dict[str, ast.expr]]]:
    """Every construction of an error a page may show, where it is, and its module's constants."""
    bases = _class_bases()
    shown = _descendants("AppError", bases) - _descendants("RuntimeFailure", bases)
    for path in sorted(SOURCE.rglob("*.py")):
        module = ast.parse(path.read_text())
        constants = {
            target.id: node.value
            for node in module.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(module):
            if isinstance(node, ast.Call) and _name(node.func) in shown:
                yield f"{path.relative_to(SOURCE)}:{node.lineno}", node, constants
            elif isinstance(node, ast.ClassDef) and node.name in shown:
                # A subclass that writes its own message: `super().__init__("...")`.
                for call in ast.walk(node):
                    if isinstance(call, ast.Call) and _is_super_init(call.func):
                        yield f"{path.relative_to(SOURCE)}:{call.lineno}", call, constants


def _is_super_init(func: ast.expr) -> bool:
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "__init__"
        and isinstance(func.value, ast.Call)
        and _name(func.value.func) == "super"
    )


def _message_argument(call: ast.Call, constants: dict[str, ast.expr]) -> ast.expr | None:
    """The message argument, seen through a module-level constant."""
    message = call.args[0] if call.args else None
    if message is None:
        message = next((kw.value for kw in call.keywords if kw.arg == "message"), None)
    if isinstance(message, ast.Name) and message.id in constants:
        return constants[message.id]
    return message


def test_every_shown_error_message_is_marked_for_translation() -> None:
    unmarked = []
    for where, call, constants in _shown_error_calls():
        message = _message_argument(call, constants)
        if isinstance(message, ast.Constant | ast.JoinedStr | ast.BinOp) or (
            isinstance(message, ast.Call)
            and _name(message.func) == "N_"
            and not (len(message.args) == 1 and isinstance(message.args[0], ast.Constant))
        ):
            unmarked.append(where)
    assert unmarked == [], "wrap these messages in N_() and pass their values as params="


def test_marked_messages_get_exactly_their_placeholders() -> None:
    mismatched = []
    for where, call, constants in _shown_error_calls():
        message = _message_argument(call, constants)
        if not (isinstance(message, ast.Call) and _name(message.func) == "N_"):
            continue
        wanted = set(PLACEHOLDER.findall(str(ast.literal_eval(message.args[0]))))
        params = next((kw.value for kw in call.keywords if kw.arg == "params"), None)
        given = (
            {str(ast.literal_eval(key)) for key in params.keys if key is not None}
            if isinstance(params, ast.Dict)
            else set()
        )
        if (params is None or isinstance(params, ast.Dict)) and given != wanted:
            mismatched.append(where)
    assert mismatched == []


def test_the_guard_sees_the_error_classes() -> None:
    shown = _descendants("AppError", _class_bases()) - _descendants(
        "RuntimeFailure", _class_bases()
    )
    assert {cls.__name__ for cls in (InvalidInput, NotFound)} <= shown
    assert RuntimeFailure.__name__ not in shown


@pytest.mark.parametrize(
    ("params", "expected"),
    [(None, "Track '%(id)s' not found."), ({"id": "t1"}, "Track 't1' not found.")],
)
def test_message_is_the_template_filled_with_params(
    params: dict[str, object] | None, expected: str
) -> None:
    error = NotFound("Track '%(id)s' not found.", params=params)
    assert (error.message, str(error), error.template) == (
        expected,
        expected,
        "Track '%(id)s' not found.",
    )
    assert isinstance(error, AppError) and error.params == (params or {})
