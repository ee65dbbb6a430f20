"""The one safe YAML loader of the toolkit (configs, protocols, a run's ``config.yaml``).

``yaml.SafeLoader`` plus three refusals, all raised as :class:`ConfigError` before any Python
object is built: duplicate keys (a silent overwrite hides typos), nesting deeper than
:data:`MAX_DEPTH`, and alias use beyond :data:`MAX_ALIASES` or a document that would expand to
more than :data:`MAX_NODES` nodes (a "billion laughs" alias bomb exhausts memory).
"""

from __future__ import annotations

from typing import Any

import yaml

from biomarkers.exceptions import ConfigError

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_NODES", "safe_load"]

MAX_DEPTH = 50
MAX_ALIASES = 100
MAX_NODES = 100_000


class _SafeLoader(yaml.SafeLoader):
    """SafeLoader that also refuses duplicate keys."""


def _construct_mapping(loader: _SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:  # noqa: FBT001, FBT002
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            msg = f"duplicate key {key!r} at line {key_node.start_mark.line + 1}"
            raise ConfigError(msg)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_SafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _check_events(text: str) -> None:
    """Depth and alias count from the event stream (the parser is iterative: no recursion)."""
    depth = aliases = 0
    for event in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1
                msg = f"line {line}: nested deeper than {MAX_DEPTH} levels; flatten the document"
                raise ConfigError(msg)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                line = event.start_mark.line + 1
                msg = (
                    f"line {line}: more than {MAX_ALIASES} alias uses (*name); write the values "
                    "out instead of repeating anchors"
                )
                raise ConfigError(msg)


def _expanded_size(root: yaml.Node) -> int:
    """Number of nodes the document has once every alias is expanded (shared nodes counted)."""
    sizes: dict[int, int] = {}
    started: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if children_done:
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in children), MAX_NODES + 1)
            continue
        if id(node) in started:  # reached again from inside itself
            line = node.start_mark.line + 1
            msg = f"line {line}: an alias refers to the node that contains it (a cycle)"
            raise ConfigError(msg)
        started.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def safe_load(text: str) -> Any:
    """Parse YAML ``text`` safely; raise :class:`ConfigError` or ``yaml.YAMLError`` when refused.

    Parameters
    ----------
    text
        The YAML document.

    Returns
    -------
    The document as plain Python objects (``None`` for an empty document).
    """
    _check_events(text)
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_NODES:
            msg = (
                f"the document expands to more than {MAX_NODES:,} values through aliases "
                "(*name); write the values out instead of repeating anchors"
            )
            raise ConfigError(msg)
        return loader.construct_document(node)
    finally:
        loader.dispose()
