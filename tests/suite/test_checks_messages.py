"""Numbers in messages: expected and got shown with as many digits as tell them apart."""

import pytest

from autograder.suite.checks import assert_scalar
from autograder.suite.checks.messages import format_pair
from autograder.suite.errors import CheckFailure


def test_format_pair_adds_digits_until_the_numbers_differ():
    assert format_pair(0.5, 0.25) == ("0.5", "0.25")
    assert format_pair(0.96780012, 0.96780031) == ("0.9678001", "0.9678003")
    assert format_pair(1.0, 1.0 + 2**-52) == ("1", "1.0000000000000002")
    assert format_pair(3.0, 3.0) == ("3", "3")


def test_a_scalar_message_shows_expected_and_got_apart():
    with pytest.raises(CheckFailure) as failure:
        assert_scalar(0.96780031, 0.96780012, what="the loss", rtol=1e-9)
    assert "expected 0.9678001, got 0.9678003" in str(failure.value)
