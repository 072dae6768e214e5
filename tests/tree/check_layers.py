#!/usr/bin/env python3
"""Keeps docs/ARCHITECTURE.md true: every module includes only the headers
its layer may use (the "Dependency rules" section), no module reaches into
another module's internals, third-party headers stay in the module that
wraps them, every .c file under lib/ and src/ is listed in the document
with its job, every public header is in its header table, and every fuzz
target (fuzz/fuzz_<name>.c) is in the fuzz/ list.

Run from anywhere: python3 tests/tree/check_layers.py (exit 1 on a breach).
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Which module each public header belongs to. "record" is the data types
# several layers share: the image record (implemented in lib/core/image.c
# with base only) and the settings struct src/ fills in.
HEADER_MODULE = {
    "base.h": "base", "kv.h": "base", "json_writer.h": "base",
    "image.h": "record", "config.h": "record",
    "query.h": "query", "patch.h": "query", "tags.h": "query", "os_version.h": "query",
    "import_request.h": "query", "server_request.h": "query", "metadef.h": "query",
    "auth.h": "auth",
    "policy.h": "policy",
    "formats.h": "formats",
    "convert.h": "convert",
    "http.h": "http",
    "db.h": "db",
    "store.h": "store",
    "obs.h": "obs",
    "server.h": "record", "compute.h": "compute",
    "backends.h": "backends",
    "service.h": "core", "identity.h": "core", "iam_admin.h": "core", "authz.h": "core", "images.h": "core",
    "upload.h": "core", "members.h": "core", "image_tags.h": "core", "copy.h": "core", "quotas.h": "core",
    "imports.h": "core", "compute_admin.h": "core", "server_images.h": "core", "metadefs.h": "core",
    "glance_import.h": "core", "image_cache.h": "core", "image_stores.h": "core",
    "jobs.h": "jobs",
    "api.h": "api",
}

# The modules (by public header) each layer may include, besides its own.
ALLOWED = {
    "base": set(),
    "record": {"base"},
    "query": {"base", "record"},
    "auth": {"base"},
    "policy": {"base"},
    "formats": {"base"},
    "convert": {"base", "formats"},
    "http": {"base", "query"},
    "db": {"base", "record", "query"},
    "store": {"base", "obs"},  # the S3 store talks through obs's S3 client
    "obs": {"base"},
    "compute": {"base", "record", "query", "formats", "convert", "obs", "db"},
    "backends": {"db", "store", "obs", "compute"},
    "core": {"base", "record", "query", "auth", "policy", "formats", "convert", "db", "store", "obs", "compute",
             "backends"},
    "jobs": {"base", "record", "query", "auth", "policy", "formats", "convert", "db", "store", "obs", "compute",
             "core"},
    "api": {"base", "record", "query", "auth", "policy", "formats", "http", "core", "jobs"},
    "src/common": {"base", "record", "query", "auth", "policy", "formats", "convert", "db", "store", "obs",
                   "compute", "backends", "core"},
    "src/imsctl": {"base", "record", "query", "auth", "policy", "formats", "convert", "db", "store", "obs",
                   "compute", "backends", "core"},
    "src/imsd": {"base", "record", "query", "auth", "policy", "formats", "convert", "http", "db", "store", "obs",
                 "compute", "backends", "core", "jobs", "api"},
}

# Third-party headers (by prefix) and the only layers that may include them:
# each library is wrapped by one module, and the layers above see only that
# module's interface.
THIRD_PARTY = {
    "sqlite3.h": {"db"},
    "libpq-fe.h": {"db"},
    "microhttpd.h": {"http"},
    "ini.h": {"src/common"},
    "argon2.h": {"auth"},
    "openssl/": {"auth", "core", "obs"},
    "curl/": {"obs"},
    "libvirt/": {"compute"},
    "libxml/": {"compute"},
    "jansson.h": {"query", "policy", "jobs", "api"},
}

# core has one header per area and no catch-all: an area header may include
# the service handle (service.h) but no other area's header, so each .c file
# names the areas it uses.
CORE_HANDLE = "service.h"

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def layer_of(path):
    rel = path.relative_to(ROOT)
    parts = rel.parts
    if parts[0] == "lib":
        return parts[1]
    if parts[0] == "src":
        return "src/" + parts[1]
    if parts[0] == "include":
        return HEADER_MODULE.get(rel.name)
    return None


def include_problems():
    problems = []
    files = sorted(ROOT.glob("lib/*/*.[ch]")) + sorted(ROOT.glob("src/*/*.[ch]")) + \
        sorted(ROOT.glob("include/ims/*.h"))
    for path in files:
        rel = path.relative_to(ROOT)
        layer = layer_of(path)
        if layer is None:
            problems.append(f"{rel}: public header with no module in tests/tree/check_layers.py")
            continue
        if layer not in ALLOWED:
            problems.append(f"{rel}: module '{layer}' has no dependency rule in tests/tree/check_layers.py")
            continue
        for m in INCLUDE.finditer(path.read_text(errors="replace")):
            kind, name = m.groups()
            line = path.read_text(errors="replace").count("\n", 0, m.start()) + 1
            where = f"{rel}:{line}: #include {kind}{name}"
            if kind == '"':
                if name.startswith("ims/"):
                    owner = HEADER_MODULE.get(name[4:])
                    if owner is None:
                        problems.append(f"{where}: unknown public header")
                    elif owner != layer and owner not in ALLOWED[layer]:
                        problems.append(f"{where}: layer '{layer}' may not include a '{owner}' header")
                    elif rel.parts[0] == "include" and layer == "core" == owner and name[4:] != CORE_HANDLE:
                        problems.append(f"{where}: a core area header includes another area's (no catch-all)")
                elif "/" in name and not (layer.startswith("src/") and name.startswith("../common/")):
                    problems.append(f"{where}: another module's internals (use its public header)")
                elif "/" not in name and not (path.parent / name).exists():
                    problems.append(f"{where}: no such header beside the file")
                continue
            for prefix, layers in THIRD_PARTY.items():
                if name.startswith(prefix) and layer not in layers:
                    problems.append(f"{where}: '{prefix}' belongs to {sorted(layers)}, not '{layer}'")
    return problems


def listing_problems():
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    listed = set(re.findall(r"^\s*[-|]?\s*`((?:lib|src)/[\w/.-]+\.c)`", doc, re.M))
    problems = []
    actual = {str(p.relative_to(ROOT)) for p in ROOT.glob("lib/*/*.c")} | \
        {str(p.relative_to(ROOT)) for p in ROOT.glob("src/*/*.c")}
    for f in sorted(actual - listed):
        problems.append(f"{f}: not listed in docs/ARCHITECTURE.md (add a line with its job)")
    for f in sorted(listed - actual):
        problems.append(f"{f}: listed in docs/ARCHITECTURE.md but does not exist")
    for h in sorted(p.name for p in ROOT.glob("include/ims/*.h")):
        if f"`{h}`" not in doc:
            problems.append(f"include/ims/{h}: public header missing from docs/ARCHITECTURE.md's header table")
    for d in sorted({str(Path(f).parent) for f in actual}):
        if f"`{d}/`" not in doc:
            problems.append(f"{d}/: module not described in docs/ARCHITECTURE.md")
    section = doc[doc.find("### `fuzz/`"):]
    section = section[:section.find("\n## ")]
    fuzz_listed = set(re.findall(r"^- `(\w+)` — ", section, re.M))
    fuzz_actual = {p.stem[len("fuzz_"):] for p in ROOT.glob("fuzz/fuzz_*.c")} - {"main"}
    for t in sorted(fuzz_actual - fuzz_listed):
        problems.append(f"fuzz/fuzz_{t}.c: not in docs/ARCHITECTURE.md's fuzz/ list (add a line with what it feeds)")
    for t in sorted(fuzz_listed - fuzz_actual):
        problems.append(f"fuzz target {t}: listed in docs/ARCHITECTURE.md but fuzz/fuzz_{t}.c does not exist")
    return problems


def main():
    problems = include_problems() + listing_problems()
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"check_layers: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("check_layers: includes keep the layer rules; every source file and public header is in docs/ARCHITECTURE.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
