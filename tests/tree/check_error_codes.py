#!/usr/bin/env python3
"""Every IMS error code the library answers with (IMG.nnnn in lib/) is one
of the IMS API's codes, listed in spec/ims-error-codes.tsv (status, code,
message, handling), so a typo or an invented code fails `make test`."""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main():
    rows = (ROOT / "spec" / "ims-error-codes.tsv").read_text().splitlines()[1:]
    known = {r.split("\t")[1] for r in rows if r.strip()}
    problems = []
    for path in sorted(ROOT.glob("lib/*/*.[ch]")):
        text = path.read_text(errors="replace")
        for m in re.finditer(r"IMG\.\d{4}", text):
            if m.group(0) not in known:
                line = text.count("\n", 0, m.start()) + 1
                problems.append(f"{path.relative_to(ROOT)}:{line}: {m.group(0)} is not in spec/ims-error-codes.tsv")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print(f"check_error_codes: every IMS error code used is one of the {len(known)} in spec/ims-error-codes.tsv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
