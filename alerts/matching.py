"""Label matchers of silences, matched in time linear in the label's length.

Patterns are compiled with RE2, the engine Prometheus and Alertmanager use for the same
matchers, so a silence copied from Alertmanager means the same here. RE2 never backtracks:
no pattern an operator types can make matching slow. What RE2 cannot run in linear time
(back-references, look-around) or in a small memory budget is refused when the silence is
saved, with the reason.
"""

import functools
import logging

import re2

logger = logging.getLogger(__name__)

OPERATORS = ("=", "!=", "=~")
# Memory RE2 may use for one compiled pattern; a pattern that needs more is refused at save.
PATTERN_MEMORY_BYTES = 1 << 20
MAX_PATTERN_LENGTH = 500


class PatternRefused(ValueError):
    """A pattern that cannot be matched in bounded time and memory."""


def _options() -> re2.Options:
    options = re2.Options()
    options.max_mem = PATTERN_MEMORY_BYTES
    options.log_errors = False
    return options


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str):
    """The compiled pattern, or PatternRefused saying why it cannot be used."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternRefused(f"Patterns are limited to {MAX_PATTERN_LENGTH} characters.")
    try:
        return re2.compile(pattern, options=_options())
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternRefused(
            f"Not a usable regular expression ({reason}). Patterns use RE2 syntax, as in "
            "Alertmanager: back-references and look-around are not supported."
        ) from None


def matcher_problems(matcher: dict) -> list[str]:
    """What is wrong with one matcher ([] when it can be used)."""
    if matcher.get("op") not in OPERATORS:
        return [f"op must be one of {', '.join(OPERATORS)}."]
    if matcher.get("op") == "=~":
        try:
            compile_pattern(str(matcher.get("value", "")))
        except PatternRefused as exc:
            return [str(exc)]
    return []


def matcher_matches(matcher: dict, labels: dict) -> bool:
    actual = str(labels.get(matcher["label"], ""))
    op, expected = matcher["op"], str(matcher["value"])
    if op == "=":
        return actual == expected
    if op == "!=":
        return actual != expected
    try:
        return compile_pattern(expected).fullmatch(actual) is not None
    except PatternRefused:
        # Only a row written around the validation can hold one; it silences nothing.
        logger.warning("silence pattern %r cannot be used; it matches nothing", expected)
        return False


def matchers_match(matchers: list[dict], labels: dict) -> bool:
    return all(matcher_matches(matcher, labels) for matcher in matchers)
