"""Checks Atom feeds the way feed readers read them.

Usage: python3 feedcheck.py FEED.xml [FEED.xml ...]

For each feed: feedparser must parse it with no bozo flag, and (stricter
than feedparser, per RFC 4287) the feed and every entry need exactly one id,
title and updated, RFC 3339 dates, absolute ids and links, an author, a link
to the entry's page. Prints one line per feed; exit 1 if any fails.
"""
import re
import sys
import xml.etree.ElementTree as ET

import feedparser

A = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
ABSOLUTE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def strict(path):
    errors = []
    root = ET.parse(path).getroot()
    if root.tag != A + "feed":
        return [f"root element is {root.tag}"]

    def need(el, where, tags):
        for t in tags:
            n = len(el.findall(A + t))
            if n != 1:
                errors.append(f"{where}: needs exactly one <{t}>, found {n}")
        for u in el.findall(A + "updated") + el.findall(A + "published"):
            if not RFC3339.match((u.text or "").strip()):
                errors.append(f"{where}: date {u.text!r} is not RFC 3339")
        for i in el.findall(A + "id"):
            if not ABSOLUTE.match((i.text or "").strip()):
                errors.append(f"{where}: id {i.text!r} is not absolute")
        for link in el.findall(A + "link"):
            if not ABSOLUTE.match(link.get("href", "")):
                errors.append(f"{where}: link {link.get('href')!r} is not absolute")

    need(root, "feed", ["id", "title", "updated"])
    if not root.findall(A + "link[@rel='self']"):
        errors.append("feed: no rel=self link")
    has_feed_author = bool(root.findall(A + "author"))
    ids = []
    for n, e in enumerate(root.findall(A + "entry"), 1):
        need(e, f"entry {n}", ["id", "title", "updated"])
        ids += [i.text for i in e.findall(A + "id")]
        if not has_feed_author and not e.findall(A + "author"):
            errors.append(f"entry {n}: no author")
        if not e.findall(A + "link[@rel='alternate']"):
            errors.append(f"entry {n}: no link to its page")
    if len(ids) != len(set(ids)):
        errors.append("duplicate entry ids")
    return errors


def main(paths):
    failed = 0
    for path in paths:
        d = feedparser.parse(path)
        problems = []
        if d.bozo:
            problems.append(f"bozo: {d.bozo_exception!r}")
        if not (d.version or "").startswith("atom"):
            problems.append(f"not Atom: {d.version!r}")
        for e in d.entries:
            if not e.get("id"):
                problems.append(f"entry without id: {e.get('title')!r}")
            if not ABSOLUTE.match(e.get("link", "")):
                problems.append(f"entry without an absolute link: {e.get('title')!r}")
        problems += strict(path)
        status = "FAIL" if problems else "ok"
        print(f"{status} {path}: {len(d.entries)} entries")
        for p in problems:
            print(f"    {p}")
        failed += bool(problems)
    print(f"{len(paths) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
