#!/usr/bin/python3
"""Writes spec/image-fields.tsv: the fields of an image document each API
answers with, and their types, as the IMS API reference documents them.

Run once by hand against the reference (Markdown converted from the public
Open Telekom Cloud IMS API reference); the tests read the TSV, never the
reference:

    scripts/extract-image-fields.py REFERENCE_DIR > spec/image-fields.tsv

REFERENCE_DIR is the ims-api folder (ims_apis/, native_openstack_apis/).
For each API below, every row of the response parameter tables that
describes an image, and every member of the images in the example
responses, becomes a row: api, field, type (the table's, else the
example's), nullable (an example shows null, or Glance 25's image schema
lets the attribute be null), documented_in (table, example or
both)."""
import html
import json
import re
import sys
from pathlib import Path

# api name -> (document, what the example's image is inside)
APIS = [
    ("glance_create", "native_openstack_apis/image_native_openstack_apis/"
                      "creating_image_metadata_native_openstack_api.md"),
    ("glance_show", "native_openstack_apis/image_native_openstack_apis/"
                    "querying_image_details_native_openstack_api.md"),
    ("glance_list", "native_openstack_apis/image_native_openstack_apis/"
                    "querying_images_native_openstack_api.md"),
    ("glance_update", "native_openstack_apis/image_native_openstack_apis/"
                      "modifying_an_image_native_openstack_api.md"),
    ("ims_list", "ims_apis/image/querying_images.md"),
    ("ims_update", "ims_apis/image/updating_an_image.md"),
    ("v1.1_list", "native_openstack_apis/image_native_openstack_apis/"
                  "querying_image_details_native_openstack_api_v1.1_deprecated.md"),
]
# What Glance 25's image schema (the one imsd serves at /v2/schemas/image)
# types as ["null", ...]: an image without data has no checksum, hash or
# sizes, one made without them no name or formats. The reference's own
# schema example leaves null out, and its create example leaves these
# members out of a queued image altogether.
GLANCE_NULLABLE = {"name", "checksum", "os_hash_algo", "os_hash_value", "owner", "size",
                   "virtual_size", "container_format", "disk_format"}
# Rows of the tables that describe the list around the images, not an image.
LIST_MEMBERS = {"images", "first", "next"}
# The v2 create table's "properties" row (type "Properties object") stands
# for the image's other attributes as a whole: Glance v2 documents carry
# them at the top level (as the table's own example does), never in a
# "properties" member. The v1.1 list does have one.
NOT_A_MEMBER = {("glance_create", "properties")}

TYPES = {"string": "string", "integer": "integer", "long": "integer", "boolean": "boolean",
         "array of strings": "array", "object": "object", "array of objects": "array"}


def text(cell):
    return html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()


def response_section(doc):
    start = doc.find("## Response")
    end = doc.find("## Returned Values")
    return doc[start:end if end > 0 else None]


def table_rows(section):
    """(field, type) of the HTML and pipe tables whose header has Parameter and Type."""
    out = []
    for tab in re.findall(r"<table>(.*?)</table>", section, re.S):
        rows = [[text(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S)]
                for r in re.findall(r"<tr[^>]*>(.*?)</tr>", tab, re.S)]
        if rows and rows[0][:2] == ["Parameter", "Type"]:
            out += [(r[0], r[1]) for r in rows[1:] if len(r) >= 2]
    lines = [ln.strip() for ln in section.splitlines()]
    for i, ln in enumerate(lines):
        if re.match(r"^\|\s*Parameter\s*\|\s*Type\s*\|", ln):
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                cells = [c.strip() for c in row.strip("|").split("|")]
                out.append((cells[0], cells[1]))
    return out


def examples(section):
    """Every JSON object in the section (indented code blocks included)."""
    flat = "\n".join(ln.strip() for ln in section.splitlines())
    dec = json.JSONDecoder()
    found, pos = [], 0
    while True:
        k = flat.find("{", pos)
        if k < 0:
            return found
        try:
            obj, end = dec.raw_decode(flat, k)
            found.append(obj)
            pos = end
        except ValueError:
            pos = k + 1


def example_images(objs):
    for o in objs:
        if isinstance(o, dict) and isinstance(o.get("images"), list):
            yield from (i for i in o["images"] if isinstance(i, dict))
        elif isinstance(o, dict) and "id" in o:
            yield o


def json_type(v):
    if v is None:
        return None
    return {bool: "boolean", int: "integer", float: "number", str: "string",
            list: "array", dict: "object"}[type(v)]


def main():
    ref = Path(sys.argv[1])
    print("# The fields of an image document each API answers with, as the IMS API reference")
    print("# documents them: its response parameter tables and example responses. Written by")
    print("# scripts/extract-image-fields.py from the reference; tests/api/test_image_fields.py")
    print("# checks every API's output against it. type: the table's (Long is integer), else the")
    print("# example's; nullable: an example shows null, or Glance 25's image schema allows null")
    print("# (what an image without data lacks); documented_in: table, example or both.")
    print("api\tfield\ttype\tnullable\tdocumented_in")
    for api, path in APIS:
        section = response_section((ref / path).read_text())
        fields = {}
        for name, typ in table_rows(section):
            if name in LIST_MEMBERS or (api, name) in NOT_A_MEMBER:
                continue
            t = TYPES.get(typ.lower())
            if t is None:
                sys.exit("%s: %s has an unknown type %r" % (path, name, typ))
            fields[name] = {"type": t, "null": False, "in": {"table"}}
        for img in example_images(examples(section)):
            for name, v in img.items():
                if (api, name) in NOT_A_MEMBER:
                    continue
                f = fields.setdefault(name, {"type": None, "null": False, "in": set()})
                f["in"].add("example")
                if v is None:
                    f["null"] = True
                elif f["type"] is None:
                    f["type"] = json_type(v)
        for name in sorted(fields):
            f = fields[name]
            if name in GLANCE_NULLABLE:
                f["null"] = True
            print("\t".join([api, name, f["type"] or "string", "yes" if f["null"] else "no",
                             "+".join(sorted(f["in"]))]))


if __name__ == "__main__":
    main()
