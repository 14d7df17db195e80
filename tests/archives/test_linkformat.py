"""The link-format parser (RFC 7089 §5 TimeMaps, RFC 8288 §3 link syntax): order, lines, quotes, rel tokens."""

from __future__ import annotations

import datetime as dt

from archiver.archives.linkformat import mementos, original, parse_http_date, parse_links

TIMEMAP = """<http://arch.example/20130607120000/http://a.example/p>; rel="last memento";
  datetime="Fri, 07 Jun 2013 12:00:00 GMT",
<http://a.example/p>;rel=original,
<http://arch.example/timemap/link/http://a.example/p> ; rel="self" ; type="application/link-format" ;
   from="Tue, 20 Jun 2000 18:02:59 GMT"; until="Fri, 07 Jun 2013 12:00:00 GMT",
<http://arch.example/20000620180259/http://a.example/p>; datetime="Tue, 20 Jun 2000 18:02:59 GMT";
  rel="first memento"; title="a; title, with \\"quotes\\"",
<http://arch.example/20050101000000/http://a.example/p>; rel="memento"; datetime="Sat, 01 Jan 2005 00:00:00 GMT"
<http://arch.example/timegate/http://a.example/p>; rel="timegate",
"""


def test_a_timemap_in_any_order_across_lines_with_quoted_params() -> None:
    entries = parse_links(TIMEMAP)
    assert original(entries) == "http://a.example/p"
    found = mementos(entries)
    assert [m.timestamp for m in found] == ["20000620180259", "20050101000000", "20130607120000"]
    first = next(e for e in entries if "first" in e.rels)
    assert first.rels == {"first", "memento"} and first.params["title"] == 'a; title, with "quotes"'
    self_entry = next(e for e in entries if "self" in e.rels)
    assert self_entry.params["type"] == "application/link-format"


def test_one_memento_is_first_and_last_and_bad_dates_are_skipped() -> None:
    entries = parse_links('<http://x/1>; rel="first last memento"; datetime="Mon, 03 Feb 2020 10:00:00 GMT", '
                          '<http://x/2>; rel="memento"; datetime="yesterday", <http://x/3>; rel="timegate"')
    assert [(m.uri, m.datetime) for m in mementos(entries)] == [
        ("http://x/1", dt.datetime(2020, 2, 3, 10, tzinfo=dt.UTC))]
    assert parse_http_date("not a date") is None and parse_links("") == [] and parse_links("garbage") == []
