"""Minimal-diff frontmatter edits: byte-for-byte expectations."""

from __future__ import annotations

import pytest

from archiver.timeline.edit import EditError, changed_lines, render_scalar, set_source_fields
from archiver.timeline.load import _FileContext, parse_event_text

COMMENTED = """\
---
# Event maintained by hand.  Keep the comments!
id: 2013-06-06--prism
date: 2013-06-06
title: "PRISM revealed"   # headline
sources:
  # the scoop
  - url: https://www.theguardian.com/world/2013/jun/06/us-tech-giants-nsa-data
    title: "NSA Prism program taps in to user data"
    outlet: The Guardian   # older key
    date: '2013-06-07'
  - url: https://www.washingtonpost.com/investigations/us-intelligence-mining-data
    title: 'U.S., British intelligence mining data'   # quoted
    date: 2013-06-06
tags: [nsa]
---
Body text stays.
"""


def parse(text: str):
    ctx = _FileContext("events/x.md", [])
    event = parse_event_text(text.replace("\r\n", "\n"), "events/x.md", ctx, "x")
    assert event is not None, ctx.findings
    return event


def test_outlet_present_only_tier_added_comments_and_quotes_kept() -> None:
    out = set_source_fields(COMMENTED, 0, {"publisher": "The Guardian", "tier": 1})
    assert out == COMMENTED.replace(
        "    date: '2013-06-07'\n",
        "    date: '2013-06-07'\n    tier: 1\n")


def test_missing_publisher_and_tier_inserted_after_the_item_in_its_quote_style() -> None:
    out = set_source_fields(COMMENTED, 1, {"publisher": "The Washington Post", "tier": 1})
    assert out == COMMENTED.replace(
        "    date: 2013-06-06\ntags",
        "    date: 2013-06-06\n    publisher: 'The Washington Post'\n    tier: 1\ntags")
    assert changed_lines(COMMENTED, out) == 2
    event = parse(out)
    assert (event.sources[1].publisher, event.sources[1].tier) == ("The Washington Post", 1)
    assert event.sources[0].publisher == "The Guardian"


def test_crlf_file_keeps_crlf_and_unindented_items() -> None:
    text = ("---\r\nid: x\r\nsources:\r\n- title: A story\r\n  url: https://www.npr.org/2020/01/01/1/a\r\n"
            "  outlet: NPR\r\n- title: B\r\n  url: https://www.npr.org/b\r\n---\r\nbody\r\n")
    out = set_source_fields(text, 1, {"publisher": "NPR", "tier": 1})
    assert out == text.replace("  url: https://www.npr.org/b\r\n",
                               "  url: https://www.npr.org/b\r\n  publisher: NPR\r\n  tier: 1\r\n")
    out0 = set_source_fields(text, 0, {"publisher": "NPR", "tier": 1})
    assert out0 == text.replace("  outlet: NPR\r\n", "  outlet: NPR\r\n  tier: 1\r\n")


def test_tier_missing_only_one_line() -> None:
    text = "---\nsources:\n  - url: https://apnews.com/a\n    publisher: AP\n---\n"
    out = set_source_fields(text, 0, {"publisher": "Associated Press", "tier": 1})
    assert out == "---\nsources:\n  - url: https://apnews.com/a\n    publisher: AP\n    tier: 1\n---\n"


def test_empty_key_is_filled_in_place_keeping_its_comment() -> None:
    text = "---\nsources:\n  - url: https://www.npr.org/a\n    outlet:   # who?\n    title: T\n---\n"
    out = set_source_fields(text, 0, {"publisher": "NPR"})
    assert out == "---\nsources:\n  - url: https://www.npr.org/a\n    outlet: NPR   # who?\n    title: T\n---\n"


def test_replace_existing_value_keeps_quote_style_and_comment() -> None:
    text = "---\nsources:\n  - url: u\n    tier: '2'  # guessed\n    title: T\n---\n"
    out = set_source_fields(text, 0, {"tier": 1}, only_if_missing=False)
    assert out == "---\nsources:\n  - url: u\n    tier: '1'  # guessed\n    title: T\n---\n"
    assert set_source_fields(text, 0, {"tier": 1}) == text  # present: left alone by default


def test_insertion_after_multiline_and_block_values() -> None:
    text = ("---\nsources:\n  - url: u\n    title: a long title\n      continued here\n\n"
            "  - url: v\n    notes: >\n      folded\n      text\n\n---\n")
    out = set_source_fields(text, 0, {"tier": 2})
    assert out == text.replace("      continued here\n", "      continued here\n    tier: 2\n")
    out = set_source_fields(text, 1, {"tier": 2})
    assert out == text.replace("      text\n", "      text\n    tier: 2\n")


def test_double_quoted_item_gets_double_quotes_and_bom_is_kept() -> None:
    text = '\ufeff---\nsources:\n- url: "https://x.org/a"\n  title: "T"\n---\n'
    out = set_source_fields(text, 0, {"publisher": 'Say "Hi"'})
    assert out == '\ufeff---\nsources:\n- url: "https://x.org/a"\n  title: "T"\n  publisher: "Say \\"Hi\\""\n---\n'


def test_idempotent() -> None:
    once = set_source_fields(COMMENTED, 1, {"publisher": "The Washington Post", "tier": 1})
    assert set_source_fields(once, 1, {"publisher": "The Washington Post", "tier": 1}) == once


@pytest.mark.parametrize(("text", "index", "message"), [
    ("---\nsources:\n  - https://bare.example.org/x\n---\n", 0, "bare URL"),
    ("---\nsources:\n  - {url: https://x.org, title: T}\n---\n", 0, "flow mapping"),
    ("---\nsources: [https://x.org]\n---\n", 0, "flow list"),
    ("---\nsources:\n  - url: u\n---\n", 3, "no source 3"),
    ("no frontmatter\n", 0, "no YAML frontmatter"),
    ("---\nid: x\n---\n", 0, "no 'sources'"),
    ("---\nsources:\n  - url: [\n---\n", 0, "invalid YAML"),
])
def test_refusals(text: str, index: int, message: str) -> None:
    with pytest.raises(EditError, match=message):
        set_source_fields(text, index, {"tier": 1})


@pytest.mark.parametrize(("value", "style", "rendered"), [
    ("NPR", None, "NPR"),
    ("Reuters: Special Report", None, "'Reuters: Special Report'"),
    ("yes", None, "'yes'"),
    ("2020", None, "'2020'"),
    ("O'Reilly # Factor", None, "'O''Reilly # Factor'"),
    ("NPR", "'", "'NPR'"),
    (1, None, "1"),
    (1, '"', '"1"'),
])
def test_render_scalar(value: str | int, style: str | None, rendered: str) -> None:
    assert render_scalar(value, style) == rendered
