"""Sections of README.md in the docs, read when the docs build (never copied by hand).

``.. readme-section:: Speed`` puts the body of the README's ``## Speed`` section in
the page: :func:`section` cuts it out of the Markdown (optionally from the first
line starting with ``:from:`` and up to the first starting with ``:until:``) and
:func:`markdown_to_rst` turns the little Markdown the README uses (paragraphs,
``-`` lists, pipe tables, fenced code, ``###`` headings, images on a line of their
own, inline code, bold, italics, links, backslash escapes) into reST.  The numbers
in the docs are therefore the README's own.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docutils import nodes
    from sphinx.application import Sphinx

#: Underlines of Markdown heading levels 3..6 inside an included section.
HEADINGS = {3: "~", 4: "^", 5: '"', 6: "'"}


class SectionNotFound(LookupError):
    """The README has no such section, or no such line in it."""


def _is_fence(line: str) -> bool:
    return line.lstrip().startswith("```")


def section(markdown: str, heading: str, start: str | None = None,
            stop: str | None = None) -> list[str]:
    """The body of a level-1 or level-2 section of a Markdown text (up to the next).

    Parameters
    ----------
    markdown : str
    heading : str
        The heading as written after ``#`` or ``##`` (inline code included).
    start : str, optional
        Begin at the first line of the body that starts with this text.
    stop : str, optional
        End before the first line (after ``start``) that starts with this text.

    Returns
    -------
    lines : list of str

    Raises
    ------
    SectionNotFound
        When the heading, ``start`` or ``stop`` is not found.
    """
    lines = markdown.splitlines()
    body, inside, fenced = None, False, False
    for line in lines:
        if _is_fence(line):
            fenced = not fenced
        if not fenced and re.match(r"#{1,2} ", line):
            if inside:
                break
            inside = line.split(" ", 1)[1].strip() == heading.strip()
            if inside:
                body = []
            continue
        if inside:
            body.append(line)
    if body is None:
        raise SectionNotFound(f"README.md has no section '{heading}' (a '#' or '##' heading)")
    if start is not None:
        found = [index for index, line in enumerate(body) if line.startswith(start)]
        if not found:
            raise SectionNotFound(f"README.md section '{heading}' has no line starting "
                                  f"with {start!r}")
        body = body[found[0]:]
    if stop is not None:
        found = [index for index, line in enumerate(body) if line.startswith(stop)]
        if not found:
            raise SectionNotFound(f"README.md section '{heading}' has no line starting "
                                  f"with {stop!r}")
        body = body[:found[0]]
    return body


# ---------------------------------------------------------------------------
# inline

_INLINE = re.compile(
    r"(?P<code>`+)(?P<code_text>.+?)(?P=code)"
    r"|\[(?P<link_text>[^\]]+)\]\((?P<url>[^)\s]+)\)"
    r"|\*\*(?P<bold>.+?)\*\*"
    r"|(?<![\w*\\])\*(?P<italic>[^\s*](?:.*?[^\s\\])?)\*(?![\w*])"
    r"|\\(?P<escaped>[\\`*_{}\[\]()#+\-.!|<>])",
    re.DOTALL,
)

_SPECIAL = re.compile(r"([\\`*|_<>\[\]])")


def escape(text: str) -> str:
    """Plain text safe inside reST (no markup, references or substitutions)."""
    return _SPECIAL.sub(r"\\\1", text)


#: Characters reST accepts just before an inline markup start-string / after an end-string.
_BEFORE_OK = set("-:/'\"<([{")
_AFTER_OK = set("-.,:;!?/'\")]}>")


def _guarded(markup: str, text: str, start: int, end: int) -> str:
    r"""``markup`` for ``text[start:end]``, with ``\ `` (removed by reST) on a side where
    the neighbouring character would stop reST from recognising it.
    """
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    left = "" if before.isspace() or before in _BEFORE_OK else "\\ "
    right = "" if after.isspace() or after in _AFTER_OK else "\\ "
    return f"{left}{markup}{right}"


def inline(text: str) -> str:
    """Markdown inline markup of one paragraph, list item or table cell as reST."""
    out = []
    position = 0
    for match in _INLINE.finditer(text):
        out.append(escape(text[position:match.start()]))
        position = match.end()

        def _markup(markup: str, match: re.Match = match) -> str:
            return _guarded(markup, text, match.start(), match.end())

        if match.group("code"):
            code = " ".join(match.group("code_text").split())
            out.append(_markup(f"``{code}``"))
        elif match.group("link_text"):
            label, url = match.group("link_text"), match.group("url")
            if re.match(r"https?://", url):
                out.append(_markup(f"`{escape(' '.join(label.split()))} <{url}>`__"))
            else:
                out.append(inline(label))
        elif match.group("bold"):
            out.append(_markup(f"**{escape(match.group('bold'))}**"))
        elif match.group("italic"):
            out.append(_markup(f"*{escape(match.group('italic'))}*"))
        else:
            out.append(escape(match.group("escaped")))
    out.append(escape(text[position:]))
    return "".join(out)


# ---------------------------------------------------------------------------
# blocks


def _table_cells(line: str) -> list[str]:
    """The cells of a pipe-table row (``|`` inside code or escaped does not split)."""
    cells, current, in_code, index = [], "", False, 0
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body) and body[index + 1] == "|":
            current += "\\|"
            index += 2
            continue
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            cells.append(current.strip())
            current = ""
        else:
            current += char
        index += 1
    cells.append(current.strip())
    return cells


def _table(rows: list[str]) -> list[str]:
    """A Markdown pipe table as a reST list-table (first row: the header)."""
    cells = [_table_cells(row) for row in rows
             if not re.fullmatch(r"\s*\|?[\s:|-]+\|?\s*", row)]
    width = max(len(row) for row in cells)
    lines = [".. list-table::", "   :header-rows: 1", "   :class: readme-table", ""]
    for row in cells:
        row = row + [""] * (width - len(row))
        for position, cell in enumerate(row):
            text = inline(cell)
            bullet = "   * -" if position == 0 else "     -"
            lines.append(f"{bullet} {text}" if text else bullet)
    return lines + [""]


#: An image on a line of its own: ``![alt](path)``, the path relative to the README.
_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<path>[^)\s]+)\)")


def _image(match: re.Match) -> list[str]:
    """``.. image::`` for a README image: ``docs/x`` is ``/x`` of the Sphinx source."""
    path = match.group("path")
    target = "/" + path[len("docs/"):] if path.startswith("docs/") else "/../" + path
    lines = [f".. image:: {target}"]
    if match.group("alt"):
        lines.append(f"   :alt: {' '.join(match.group('alt').split())}")
    return lines + [""]


def _code(lines: list[str], language: str) -> list[str]:
    return [f".. code-block:: {language or 'text'}", ""] + [
        f"   {line}" if line.strip() else "" for line in lines] + [""]


def markdown_to_rst(lines: list[str]) -> list[str]:
    """Markdown lines (one README section's body) as reST lines.

    Parameters
    ----------
    lines : list of str

    Returns
    -------
    rst : list of str
    """
    out = []
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if not stripped or re.fullmatch(r"-{3,}|\*{3,}", stripped):
            index += 1
            continue
        if _is_fence(line):
            language = stripped[3:].strip()
            block = []
            index += 1
            while index < len(lines) and not _is_fence(lines[index]):
                block.append(lines[index])
                index += 1
            out += _code(block, language)
            index += 1
            continue
        image = _IMAGE.fullmatch(stripped)
        if image:
            out += _image(image)
            index += 1
            continue
        heading = re.match(r"(#{3,6}) (.*)", stripped)
        if heading:
            title = inline(heading.group(2).strip())
            out += [title, HEADINGS[len(heading.group(1))] * len(title), ""]
            index += 1
            continue
        if stripped.startswith("|"):
            rows = []
            while index < len(lines) and lines[index].strip().startswith("|"):
                rows.append(lines[index])
                index += 1
            out += _table(rows)
            continue
        item = re.match(r"(\s*)([-*+]|\d+[.)]) (.*)", line)
        if item:
            marker = "-" if item.group(2) in "-*+" else "#."
            text = [item.group(3)]
            index += 1
            while (index < len(lines) and lines[index].strip()
                   and not re.match(r"\s*([-*+]|\d+[.)]) ", lines[index])
                   and not lines[index].strip().startswith("|")
                   and not _is_fence(lines[index])):
                text.append(lines[index].strip())
                index += 1
            body = inline("\n".join(text)).split("\n")
            indent = " " * (len(marker) + 1)
            out += [f"{marker} {body[0]}"] + [f"{indent}{rest}" for rest in body[1:]]
            if index >= len(lines) or not re.match(r"\s*([-*+]|\d+[.)]) ", lines[index]):
                out.append("")
            continue
        paragraph = []
        while (index < len(lines) and lines[index].strip()
               and not lines[index].strip().startswith("|")
               and not _is_fence(lines[index])
               and not re.match(r"\s*([-*+]|\d+[.)]) ", lines[index])
               and not re.match(r"#{3,6} ", lines[index].strip())
               and not _IMAGE.fullmatch(lines[index].strip())):
            paragraph.append(lines[index].strip().lstrip(">").strip())
            index += 1
        out += inline("\n".join(paragraph)).split("\n") + [""]
    return out


def readme_rst(path: str | Path, heading: str, start: str | None = None,
               stop: str | None = None) -> str:
    """One README section (see :func:`section`) as reST text."""
    markdown = Path(path).read_text(encoding="utf-8")
    return "\n".join(markdown_to_rst(section(markdown, heading, start, stop)))


# ---------------------------------------------------------------------------
# Sphinx


def setup(app: Sphinx) -> dict:
    """Register ``.. readme-section::`` (Sphinx extension entry point)."""
    from docutils import nodes
    from docutils.parsers.rst import directives
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    app.add_config_value("readme_path", "../README.md", "env")

    class ReadmeSection(SphinxDirective):
        """``.. readme-section:: HEADING`` with options ``:from:`` and ``:until:``."""

        required_arguments = 1
        final_argument_whitespace = True
        option_spec = {"from": directives.unchanged, "until": directives.unchanged}

        def run(self) -> list[nodes.Node]:
            relative, path = self.env.relfn2path("/" + self.config.readme_path, self.env.docname)
            self.env.note_dependency(relative)
            try:
                text = readme_rst(path, self.arguments[0], self.options.get("from"),
                                  self.options.get("until"))
            except (OSError, SectionNotFound) as error:
                raise self.error(str(error)) from error
            holder = nodes.Element()
            nested_parse_with_titles(self.state, StringList(text.splitlines(), source=path),
                                     holder)
            return holder.children

    app.add_directive("readme-section", ReadmeSection)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
