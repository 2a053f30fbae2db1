"""Reading text a user (or a link) hands us as data: checked for size and nesting before a
parser recurses into it, with a message that says what is wrong. Used by every JSON import
and link parameter."""

from __future__ import annotations

import json


def parse_json(text: str | bytes, limit: int, max_depth: int, what: str) -> object:
    """JSON parsed only after its size and nesting are checked; NaN and Infinity refused.
    Raises ValueError saying what is wrong (`what` names the thing: "a scenario")."""
    if len(text) > limit:
        raise ValueError(f"it is {len(text):,} bytes; {what} is at most {limit:,}")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError("it is not UTF-8 text") from None
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:  # nesting depth outside strings, before the parser recurses into it
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > max_depth:
                raise ValueError(f"it is nested more than {max_depth} levels deep")
        elif ch in "]}":
            depth -= 1

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not a number {what} can hold")

    try:
        return json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as e:
        raise ValueError(f"it is not valid JSON ({e.msg} at line {e.lineno}, column "
                         f"{e.colno})") from None
