#!/usr/bin/env python3
"""Copies x509-limbo JSON files keeping the data and dropping upstream prose.

    strip-descriptions.py IN.json OUT.json

Removes each test case's "description" (upstream's explanatory text); every
other field and the layout (indent 2, UTF-8 kept as is) are unchanged, so
the result differs from the input only by those lines. Run once when the
conformance data is updated (see tests/conformance/data/NOTICE); the
conformance runners never read descriptions.
"""
import json
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    doc = json.loads(text)
    if json.dumps(doc, indent=2, ensure_ascii=False) != text:
        sys.exit(f"{sys.argv[1]}: not in the expected layout; refusing to rewrite")
    n = 0
    for case in doc["testcases"]:
        if case.pop("description", None) is not None:
            n += 1
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=2, ensure_ascii=False))
    print(f"{sys.argv[2]}: {len(doc['testcases'])} cases, {n} descriptions removed")


if __name__ == "__main__":
    main()
