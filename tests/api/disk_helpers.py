"""Disk files of known content for the tests that make images from servers,
data disks and backups (test_server_images.py, test_whole_images.py): each
disk made by qemu-img from a raw reference, and an image's data checked
against its reference by `qemu-img compare`."""
import contextlib
import hashlib
import shutil
import subprocess

import pytest

MIB = 1 << 20


def qemu_img(*args):
    r = subprocess.run(["qemu-img"] + [str(a) for a in args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "qemu-img %s: %s" % (" ".join(map(str, args)), r.stderr)
    return r.stdout


def pattern(size, seed):
    """Known content with holes: a MiB of data every other MiB."""
    out = bytearray(size)
    for off in range(0, size, 2 * MIB):
        block = hashlib.sha512(("%s-%d" % (seed, off)).encode()).digest() * (MIB // 64)
        out[off:off + MIB] = block[:min(MIB, size - off)]
    return bytes(out)


def make_disks(directory, layout):
    """layout: (name, size, format) per disk. Returns {name: {"disk", "ref",
    "size"}}: the disk in its format and its raw reference, in directory."""
    made = {}
    for name, size, fmt in layout:
        ref = directory / (name + ".ref.raw")
        ref.write_bytes(pattern(size, name))
        disk = directory / ("%s.%s" % (name, fmt))
        qemu_img("convert", "-f", "raw", "-O", fmt, ref, disk)
        made[name] = {"disk": disk, "ref": ref, "size": size}
    return made


def image(api, image_id):
    r = api.get("/v2/images/%s" % image_id)
    assert r.status_code == 200, r.text
    return r.json()


def download_same_as(api, image_id, ref, tmp_path):
    """The image's data, downloaded, is the disk's content (raw) as `qemu-img
    compare` sees it; returns the data."""
    r = api.get("/v2/images/%s/file" % image_id)
    assert r.status_code == 200, r.text
    out = tmp_path / (image_id + ".out.raw")
    out.write_bytes(r.content)
    qemu_img("compare", "-f", "raw", "-F", "raw", out, ref)
    return r.content


@contextlib.contextmanager
def loop_device(backing):
    """A loop device over the file backing (losetup, as root), detached at
    the end; the test is skipped, saying why, where none can be made."""
    if not shutil.which("losetup"):
        pytest.skip("block-device disks need losetup (util-linux)")
    r = subprocess.run(["losetup", "--find", "--show", str(backing)], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        pytest.skip("block-device disks need a loop device, and losetup is not permitted here: %s"
                    % r.stderr.strip())
    dev = r.stdout.strip()
    try:
        yield dev
    finally:
        subprocess.run(["losetup", "--detach", dev], capture_output=True, timeout=30)
