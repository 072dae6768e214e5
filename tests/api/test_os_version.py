"""GET /v1/cloudimages/os_version (reference ims_apis/image/querying_supported_image_oss.md)
and the __os_version table behind it (data/os_versions.tsv)."""
from pathlib import Path

import pytest

from helpers import create_image

ROOT = Path(__file__).resolve().parents[2]
# The reference's __os_version values (its Table 1), kept in the repository.
REF = ROOT / "spec" / "os-versions-reference.txt"
TSV = ROOT / "data" / "os_versions.tsv"


def versions(api, **params):
    r = api.get("/v1/cloudimages/os_version", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body, list)
    out = {}
    for group in body:
        assert set(group) == {"platform", "version_list"}
        for v in group["version_list"]:
            assert set(v) == {"platform", "os_version_key", "os_version", "os_bit", "os_type"}, v
            assert v["platform"] == group["platform"]
            assert v["os_bit"] in (32, 64) and v["os_type"] in ("Linux", "Windows", "Other")
            out[v["os_version"]] = v
    return body, out


def test_all_versions(alice):
    body, by_name = versions(alice)
    platforms = [g["platform"] for g in body]
    assert len(platforms) == len(set(platforms)), "one element per platform"
    assert by_name["Other(32 bit)"] == {"platform": "Other", "os_version_key": "Other(32 bit)",
                                        "os_version": "Other(32 bit)", "os_bit": 32, "os_type": "Other"}
    assert by_name["SUSE Linux Enterprise Server 15 64bit"]["platform"] == "SUSE"
    assert by_name["Windows Server 2016 Standard 64bit"]["os_type"] == "Windows"
    assert by_name["Ubuntu 14.04 server 32bit"]["os_bit"] == 32


def test_every_reference_version_is_listed(alice):
    ref = {l for l in REF.read_text().splitlines() if l and not l.startswith("#")}
    assert len(ref) > 100
    _, by_name = versions(alice)
    assert ref <= set(by_name), sorted(ref - set(by_name))


@pytest.mark.parametrize("tag", ["bms", "uefi", "arm", "x86"])
def test_tag_filter(alice, tag):
    _, all_v = versions(alice)
    _, tagged = versions(alice, tag=tag)
    assert tagged and set(tagged) <= set(all_v)
    rows = [l.split("\t") for l in TSV.read_text().splitlines() if l and not l.startswith(("#", "platform\t"))]
    want = {r[1] for r in rows if tag in r[4].split(",")}
    assert set(tagged) == want


def test_bad_tag(alice):
    r = alice.get("/v1/cloudimages/os_version", params={"tag": "mips"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "IMG.0001"


def test_create_fills_from_table(alice):
    img = create_image(alice, __os_version="Redhat Linux Enterprise 6.4 32bit", __platform="Other")
    assert img["__platform"] == "Red Hat" and img["__os_type"] == "Linux" and img["__os_bit"] == "32"
    img = create_image(alice, __os_version="Windows Server 2012 R2 Standard 64bit")
    assert (img["__platform"], img["__os_type"], img["__os_bit"]) == ("Windows", "Windows", "64")


def test_create_unknown_os_version(alice):
    r = alice.post("/v2/images", json={"name": "x", "__os_version": "Windows 3.11"})
    assert r.status_code == 400, r.text
    assert "Invalid OS version" in r.text
