"""Every report caption (workflow/report/*.rst) renders as Snakemake renders it, without
a docutils warning or error: a substitution like ``|Φ|``, an unclosed ``*`` or a stray
``word_`` would otherwise print an error block into the report."""

import warnings
from pathlib import Path

import pytest

docutils_core = pytest.importorskip("docutils.core")  # installed with snakemake[reports]
jinja2 = pytest.importorskip("jinja2")
from docutils.utils import SystemMessage  # noqa: E402

CAPTIONS = sorted((Path(__file__).resolve().parents[1] / "workflow" / "report").glob("*.rst"))


class _Anything:
    """Stands for ``snakemake.wildcards``, ``snakemake.params``, ...: every attribute is a word."""

    def __getattr__(self, name):
        return name if not name.startswith("__") else super().__getattribute__(name)

    def __getitem__(self, key):
        return str(key)


class _Snakemake:
    wildcards = params = input = output = config = _Anything()


def _render(path):
    """The caption after Jinja (as Snakemake's report does: trim and lstrip blocks), as reST."""
    environment = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    return environment.from_string(path.read_text(encoding="utf-8")).render(snakemake=_Snakemake(), categories={},
                                                                             files={})


def _html(text):
    """docutils' HTML body of ``text``; any warning or error (level >= 2) raises SystemMessage."""
    settings = {"halt_level": 2, "report_level": 2, "warning_stream": False, "input_encoding": "unicode"}
    with warnings.catch_warnings():  # Snakemake's call: writer_name, pending deprecation in docutils 0.22
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return docutils_core.publish_parts(text, writer_name="html", settings_overrides=settings)["body"]


def test_there_are_captions():
    assert len(CAPTIONS) >= 15 and any(path.name == "sparse_wiring.rst" for path in CAPTIONS)


@pytest.mark.parametrize("path", CAPTIONS, ids=[path.name for path in CAPTIONS])
def test_caption_renders_without_docutils_messages(path):
    body = _html(_render(path))
    assert body.strip()
    assert "system-message" not in body and "problematic" not in body


def test_the_check_catches_the_pitfalls():
    for text in ("|Φ| for each scheme", "an *unclosed emphasis", "lambda_min_ and more"):
        with pytest.raises(SystemMessage):
            _html(text)


def test_wiring_caption_shows_the_magnitude_bars():
    body = _html(_render(next(path for path in CAPTIONS if path.name == "sparse_wiring.rst")))
    assert "|Φ|" in body
