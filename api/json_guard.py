"""Limits on JSON request bodies that the parser itself does not enforce: nesting depth (a deep body makes Python's
parser recurse until RecursionError, and Temporal's payload converter fails even earlier) and the length of an
integer literal (Python refuses to convert more than 4,300 digits). Checked on the raw bytes, before parsing."""

import re

MAX_JSON_DEPTH = 64
MAX_INT_DIGITS = 100
_DIGIT_RUNS: dict[int, re.Pattern[bytes]] = {}


def json_refusal(body: bytes, max_depth: int = MAX_JSON_DEPTH, max_int_digits: int = MAX_INT_DIGITS) -> str | None:
    """Why this body is refused, or None. Scans once, outside strings, counting open brackets and digit runs; a
    body that is not valid JSON otherwise is left to the parser to report."""
    # Most bodies pass on counts in C: no more brackets in all than the depth allows, no digit run that long
    # anywhere. Only a body that fails one of them is scanned byte by byte (strings do not count there).
    if max_int_digits not in _DIGIT_RUNS:
        _DIGIT_RUNS[max_int_digits] = re.compile(rb"[0-9]{%d}" % (max_int_digits + 1))
    if body.count(b"[") + body.count(b"{") <= max_depth and not _DIGIT_RUNS[max_int_digits].search(body):
        return None
    depth = digits = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
            continue
        if 0x30 <= byte <= 0x39:
            digits += 1
            if digits > max_int_digits:
                return f"a number in the body has more than {max_int_digits} digits"
            continue
        digits = 0
        if byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > max_depth:
                return f"the body is nested deeper than {max_depth} levels"
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return None
