"""The config reference, generated from the workflow's JSON schemas when the docs build.

:func:`schema_tables` walks a schema (``workflow/schemas/*.yaml``) and returns one
table per object (the top level, ``simulation``, ``simulation.neurons.<name>``,
``lasso``, ``sparse.images``, ...), each a list of :class:`Row` (key, type, default,
allowed values, description); :func:`schema_rst` writes them as reST list-tables.
The directive ``.. schema-reference:: ../workflow/schemas/config.schema.yaml`` puts
them in a page, so the reference can never drift from the schema the workflow
validates against.  Nothing here imports Sphinx unless :func:`setup` runs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from docutils import nodes
    from sphinx.application import Sphinx

#: Words for JSON-schema types.
TYPE_WORDS = {
    "string": "text",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "array": "list",
    "object": "mapping",
    "null": "null",
}


@dataclass
class Row:
    """One key (or sheet column) of a schema; ``type``, ``allowed`` and ``description``
    are reST (escaped text and inline literals), the others plain text.
    """

    key: str
    type: str
    default: str
    allowed: str
    description: str


@dataclass
class Table:
    """The keys of one object of a schema."""

    path: str
    description: str
    rows: list[Row] = field(default_factory=list)
    literal: bool = True


def load(path: str | Path) -> dict:
    """A schema file (YAML) as a dict."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _resolve(node: Any, schema: dict) -> Any:
    """Follow a local ``$ref`` (``#/$defs/name``), keeping the referring node's own keys."""
    while isinstance(node, dict) and "$ref" in node:
        target = schema
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = {**target, **{key: value for key, value in node.items() if key != "$ref"}}
    return node


def _words(text: object) -> str:
    """A description on one line."""
    return " ".join(str(text).split())


def show_value(value: Any) -> str:
    """A default or an allowed value as the config file would spell it."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _bounds(node: dict) -> list[str]:
    """Numeric and size constraints in words, e.g. ``>= 0``, ``2 items``."""
    parts = []
    for key, sign in (("minimum", ">="), ("exclusiveMinimum", ">"),
                      ("maximum", "<="), ("exclusiveMaximum", "<")):
        if key in node:
            parts.append(escape(f"{sign} {show_value(node[key])}"))
    low, high = node.get("minItems"), node.get("maxItems")
    if low is not None and low == high:
        parts.append(f"{low} items")
    else:
        if low is not None:
            parts.append(f"at least {low} item{'' if low == 1 else 's'}")
        if high is not None:
            parts.append(f"at most {high} items")
    if node.get("uniqueItems"):
        parts.append("no repeats")
    if "pattern" in node:
        parts.append(f"matching {literal(node['pattern'])}")
    return parts


def type_words(node: dict, schema: dict) -> str:
    """The type of a key in words: ``integer``, ``list of number``, ``text or integer``."""
    node = _resolve(node, schema)
    if "oneOf" in node or "anyOf" in node:
        options = node.get("oneOf", node.get("anyOf"))
        words = []
        for option in options:
            word = type_words(option, schema)
            if word not in words:
                words.append(word)
        return " or ".join(words)
    kinds = node.get("type", "object" if "properties" in node else "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    words = []
    for kind in kinds:
        word = TYPE_WORDS.get(kind, kind)
        if kind == "array" and "items" in node:
            word = f"list of {type_words(node['items'], schema)}"
        words.append(word)
    return " or ".join(words)


def allowed_words(node: dict, schema: dict) -> str:
    """Allowed values as reST: an enum (literals), bounds, the items' enum or bounds."""
    node = _resolve(node, schema)
    if "oneOf" in node or "anyOf" in node:
        return "; or ".join(filter(None, (allowed_words(option, schema)
                                          for option in node.get("oneOf", node.get("anyOf")))))
    parts = []
    if "enum" in node:
        parts.append(", ".join(literal(show_value(value)) for value in node["enum"]))
    parts.extend(_bounds(node))
    items = node.get("items")
    if isinstance(items, dict):
        items = _resolve(items, schema)
        inner = []
        if "enum" in items:
            inner.append(", ".join(literal(show_value(value)) for value in items["enum"]))
        inner.extend(_bounds(items))
        if inner:
            parts.append("each " + "; ".join(inner))
    return "; ".join(parts)


def schema_tables(schema: dict, root: str = "(top level)") -> list[Table]:
    """One :class:`Table` per object of ``schema``, depth first, in schema order.

    Parameters
    ----------
    schema : dict
        A JSON schema (draft 2020-12, as loaded from YAML).
    root : str
        What to call the top-level object.

    Returns
    -------
    tables : list of Table
        Objects with ``properties`` give a table of their keys; a mapping of free
        names (``additionalProperties`` holding an object schema) gives a table
        named ``<path>.<name>``.  A key that is itself an object is listed in its
        parent's table (type ``mapping``, see the table below) and gets a table of
        its own.
    """
    tables = []
    _walk(schema, schema, root, "", tables)
    if tables:
        tables[0].literal = False
    return tables


def _walk(node: dict, schema: dict, title: str, prefix: str, tables: list[Table]) -> None:
    node = _resolve(node, schema)
    properties = node.get("properties")
    if not properties:
        return
    required = set(node.get("required", ()))
    table = Table(path=title, description=_words(node.get("description", "")))
    tables.append(table)
    children = []
    for name, child in properties.items():
        child = _resolve(child, schema)
        key = f"{prefix}{name}"
        row = Row(
            key=key,
            type=escape(type_words(child, schema)),
            default=show_value(child["default"]) if "default" in child else "",
            allowed=allowed_words(child, schema),
            description=escape(_words(child.get("description", ""))),
        )
        if name in required:
            row.default = "(required)"
        table.rows.append(row)
        if child.get("properties"):
            row.type = "mapping (table below)"
            row.default = ""
            children.append((child, key, f"{key}."))
        free = child.get("additionalProperties")
        if isinstance(free, dict) and (_resolve(free, schema).get("properties")):
            names = f"{key}.<name>"
            row.type = f"mapping of names to mappings ({literal(names)}, below)"
            row.default = ""
            if "propertyNames" in child:
                pattern = child["propertyNames"].get("pattern")
                if pattern:
                    row.allowed = f"names matching {literal(pattern)}"
            children.append((free, names, f"{names}."))
    for child, child_title, child_prefix in children:
        _walk(child, schema, child_title, child_prefix, tables)


# ---------------------------------------------------------------------------
# reST

_SPECIAL = re.compile(r"([\\`*|_<>\[\]])")


def escape(text: str) -> str:
    """Plain text safe inside reST (no markup, no references, no substitutions)."""
    return _SPECIAL.sub(r"\\\1", text)


def literal(text: str) -> str:
    """An inline literal (``text`` must not start or end with a space)."""
    return f"``{text}``" if text else ""


def _cell(text: str, indent: str) -> str:
    """A list-table cell: ``- text``, or ``-`` alone when empty."""
    return f"{indent}- {text}" if text else f"{indent}-"


def table_rst(table: Table, heading: str = "-", anchor_prefix: str | None = None) -> str:
    """One table as reST: a title, its description and a list-table.

    Parameters
    ----------
    table : Table
    heading : str
        Underline character of the title (one level below the page's sections).
    anchor_prefix : str, optional
        Prefix of a reference label for the table (``config-`` gives
        ``config-simulation``).

    Returns
    -------
    text : str
    """
    lines = []
    if anchor_prefix:
        label = re.sub(r"[^a-z0-9]+", "-", table.path.lower()).strip("-")
        lines += [f".. _{anchor_prefix}{label}:", ""]
    title = literal(table.path) if table.literal else escape(table.path)
    lines += [title, heading * len(title), ""]
    if table.description:
        lines += [escape(table.description), ""]
    lines += [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 22 14 12 18 34",
        "   :class: schema-table",
        "",
        "   * - key",
        "     - type",
        "     - default",
        "     - allowed",
        "     - description",
    ]
    for row in table.rows:
        lines.append(f"   * - {literal(row.key)}")
        lines.append(_cell(row.type, "     "))
        lines.append(_cell(literal(row.default) if row.default != "(required)" else "required",
                           "     "))
        lines.append(_cell(row.allowed, "     "))
        lines.append(_cell(row.description, "     "))
    lines.append("")
    return "\n".join(lines)


def schema_rst(path: str | Path, heading: str = "-", anchor_prefix: str | None = None,
               root: str = "(top level)") -> str:
    """Every table of the schema at ``path`` as reST (see :func:`schema_tables`).

    Parameters
    ----------
    path : str or pathlib.Path
        A schema file (YAML).
    heading : str
        Underline character of each table's title.
    anchor_prefix : str, optional
        Prefix of the tables' reference labels.
    root : str
        Title of the top-level table.

    Returns
    -------
    text : str
    """
    schema = load(path)
    return "\n".join(table_rst(table, heading, anchor_prefix)
                     for table in schema_tables(schema, root))


# ---------------------------------------------------------------------------
# Sphinx


def setup(app: Sphinx) -> dict:
    """Register ``.. schema-reference::`` (Sphinx extension entry point)."""
    from docutils import nodes
    from docutils.parsers.rst import directives
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    class SchemaReference(SphinxDirective):
        """``.. schema-reference:: PATH`` (relative to the page): every table of a schema."""

        required_arguments = 1
        option_spec = {
            "anchor-prefix": directives.unchanged,
            "root": directives.unchanged,
            "heading": directives.unchanged,
        }

        def run(self) -> list[nodes.Node]:
            relative, path = self.env.relfn2path(self.arguments[0], self.env.docname)
            self.env.note_dependency(relative)
            text = schema_rst(Path(path), heading=self.options.get("heading", "-"),
                              anchor_prefix=self.options.get("anchor-prefix"),
                              root=self.options.get("root", "(top level)"))
            holder = nodes.Element()
            nested_parse_with_titles(self.state, StringList(text.splitlines(), source=path),
                                     holder)
            return holder.children

    app.add_directive("schema-reference", SchemaReference)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
