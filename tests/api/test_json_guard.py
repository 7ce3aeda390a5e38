"""The raw-body JSON limits: depth and integer length, outside strings only."""

import json

from api.json_guard import MAX_JSON_DEPTH, json_refusal


def test_depth_at_the_limit_passes_one_deeper_is_refused():
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert json_refusal(at_limit.encode()) is None
    deeper = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    assert "nested deeper than 64" in json_refusal(deeper.encode())


def test_brackets_and_digits_inside_strings_do_not_count():
    body = json.dumps({"a": "[" * 500 + "\\\"{" + "9" * 500, "b": [1, 2.5, -3e10]}).encode()
    assert json_refusal(body) is None


def test_a_five_thousand_digit_integer_is_refused():
    assert "more than 100 digits" in json_refusal(b'{"n": ' + b"7" * 5000 + b"}")
    assert json_refusal(b'{"n": ' + b"7" * 100 + b"}") is None


def test_many_shallow_brackets_and_digits_spread_out_pass():
    # More brackets in all than the depth allows and many digits: the byte scan decides, not the quick counts.
    body = json.dumps({"lists": [[i] for i in range(200)], "ids": ["9" * 100] * 5, "n": 10**99}).encode()
    assert json_refusal(body) is None
