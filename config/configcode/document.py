"""Reading a configuration document into values that remember their line.

YAML goes through PyYAML's safe loader one stage at a time: `yaml.compose` builds the node tree
(each node carries its line), and only scalars are turned into values, by the safe constructor.
So a duplicate key, which yaml.safe_load would silently resolve to the last one, is an error
here, and an alias (the "billion laughs" document) is refused rather than expanded. JSON bodies
carry no lines; their values are wrapped the same way with line None.
"""

from dataclasses import dataclass, field
from typing import Any

import yaml


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the document: where (line, path) and what."""

    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        path = f"{self.path}: " if self.path else ""
        return f"{where}{path}{self.message}"

    def as_dict(self) -> dict:
        return {"line": self.line, "path": self.path, "message": self.message}


class DocumentInvalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


@dataclass
class Node:
    """A value of the document and the line it starts on. A mapping's value is a dict of
    Nodes, a sequence's a list of Nodes, a scalar's the plain value."""

    value: Any
    line: int | None
    # A mapping's keys and the line each is on: where an object or a field is named.
    key_lines: dict[str, int] = field(default_factory=dict)

    def plain(self) -> Any:
        """The value with the lines taken out, all the way down."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


def _line(error: yaml.YAMLError) -> int | None:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    return mark.line + 1 if mark is not None else None


def parse_yaml(text: str) -> Node:
    """The document's root node; DocumentInvalid with every problem found in its structure."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error)
        raise DocumentInvalid([Problem(_line(error), "", f"not valid YAML: {problem}")]) from None
    except RecursionError:
        raise DocumentInvalid([Problem(None, "", "the document is nested too deeply")]) from None
    if root is None:
        raise DocumentInvalid([Problem(1, "", "the document is empty")])
    problems: list[Problem] = []
    constructor = yaml.SafeLoader("")
    try:
        node = _convert(root, constructor, set(), problems)
    except RecursionError:
        raise DocumentInvalid([Problem(None, "", "the document is nested too deeply")]) from None
    if problems:
        raise DocumentInvalid(problems)
    return node


def _convert(node: yaml.Node, constructor: yaml.SafeLoader, seen: set[int], problems: list[Problem]) -> Node:
    line = node.start_mark.line + 1
    # compose() gives an alias the very node its anchor named: meeting one twice is an alias.
    if id(node) in seen:
        problems.append(
            Problem(line, "", "anchors and aliases (&, *) are not supported: write the value out")
        )
        return Node(None, line)
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        values: dict[str, Node] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                problems.append(Problem(key_line, "", "a key must be text"))
                continue
            key = key_node.value
            if key in values:
                problems.append(
                    Problem(key_line, "", f"duplicate key {key!r} (first on line {key_lines[key]})")
                )
                continue
            values[key] = _convert(value_node, constructor, seen, problems)
            key_lines[key] = key_line
        return Node(values, line, key_lines)
    if isinstance(node, yaml.SequenceNode):
        return Node([_convert(item, constructor, seen, problems) for item in node.value], line)
    try:
        return Node(constructor.construct_object(node), line)
    except yaml.YAMLError as error:
        problems.append(Problem(line, "", f"not a valid value: {getattr(error, 'problem', error)}"))
        return Node(None, line)


def from_plain(value: Any) -> Node:
    """A JSON body's value wrapped like a parsed YAML one (no lines)."""
    if isinstance(value, dict):
        return Node({str(k): from_plain(v) for k, v in value.items()}, None)
    if isinstance(value, list):
        return Node([from_plain(v) for v in value], None)
    return Node(value, None)
