#!/usr/bin/env python3
"""Reads `journalctl -o json` output on stdin, one entry per line, and prints what the e2e
suite checks:

  journal_json.py fields KEY...   KEY=VALUE for each KEY of the first entry (VALUE with its
                                  newlines as \\n; KEY= when the entry has no such field)
  journal_json.py message         the first entry's MESSAGE: its length in bytes and sha256
  journal_json.py sum KEY         the sum of the integer field KEY over every entry that has it
  journal_json.py count           the number of entries

journalctl shows a value as a string when it is valid UTF-8 and as an array of byte values
otherwise; both are read as bytes here.
"""
import hashlib
import json
import sys


def value_bytes(value):
    if value is None:
        return None
    if isinstance(value, list):
        # A repeated field: journalctl gives a list of values, each a string or a byte list.
        if value and not isinstance(value[0], int):
            return value_bytes(value[0])
        return bytes(value)
    return value.encode("utf-8")


def entries():
    for line in sys.stdin:
        line = line.strip()
        if line:
            yield json.loads(line)


def main(argv):
    mode = argv[1] if len(argv) > 1 else ""
    if mode == "fields":
        first = next(entries(), {})
        for key in argv[2:]:
            raw = value_bytes(first.get(key))
            text = "" if raw is None else raw.decode("utf-8", "backslashreplace")
            print(key + "=" + text.replace("\n", "\\n"))
    elif mode == "message":
        first = next(entries(), {})
        raw = value_bytes(first.get("MESSAGE")) or b""
        print(len(raw), hashlib.sha256(raw).hexdigest())
    elif mode == "sum" and len(argv) == 3:
        print(sum(int(value_bytes(e[argv[2]])) for e in entries() if argv[2] in e))
    elif mode == "count":
        print(sum(1 for _ in entries()))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
