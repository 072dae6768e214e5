"""The node cache's fill off the client's path (lib/core/cache_filler.c):
a download hands its blocks to the fill's own thread, which writes the
file, checks its md5 and renames it into place after the client has every
byte; a download never waits for it, and a filler that falls 32 MiB behind,
or finds the memory all fills share taken, gives the fill up. Faults of the S3 read (the test fault proxy) never leave
a file that is served; Range requests during a fill get their bytes from
S3. IMSD_TEST_CACHE_WRITE_DELAY_MS holds each block's write back."""
import threading
import uuid

from fault_proxy import FaultProxy
from helpers import imsd_is_sanitized
from test_image_cache import (ABANDONED_SIZE, MIB, cache_server, cached_files, download, held_download,
                              image_with_data, settle, temp_files, wait_for)
from test_memory import reset_vm_hwm, vm_hwm_kib
from test_s3_faults import store_config as proxied_store_config
from test_s3_store import store_config

import pytest


def test_the_client_has_its_bytes_before_the_fill_ends(start_imsd, obs_s3, monkeypatch):
    """Each block's write held back 500 ms: the download of 9 blocks ends
    while the filler still writes (it would wait 4.5 s for a filler on its
    path: a margin for a loaded machine); the file appears afterwards,
    exact."""
    monkeypatch.setenv("IMSD_TEST_CACHE_WRITE_DELAY_MS", "500")
    srv = cache_server(start_imsd, obs_s3, 16 * MIB)
    api = srv.admin()
    img, data = image_with_data(api, 8 * MIB + 5)
    assert download(api, img["id"]) == data
    assert cached_files(srv) == {} and len(temp_files(srv)) == 1
    settle(srv)
    assert cached_files(srv) == {img["id"]: data}
    assert download(api, img["id"]) == data


def test_a_filler_falling_behind_gives_the_fill_up(start_imsd, obs_s3, monkeypatch):
    """Each block's write held back 1 s: a 40 MiB download gets 32 MiB
    ahead of the filler, which gives up (logged) instead of slowing it;
    the client's bytes are exact and nothing is cached."""
    monkeypatch.setenv("IMSD_TEST_CACHE_WRITE_DELAY_MS", "1000")
    srv = cache_server(start_imsd, obs_s3, 64 * MIB)
    api = srv.admin()
    img, data = image_with_data(api, 40 * MIB)
    assert download(api, img["id"]) == data
    wait_for(lambda: "image cache: not cached this time: the cache's writer fell behind" in
             srv.log_path.read_text(errors="replace"), what="the filler to give up")
    settle(srv)
    assert cached_files(srv) == {}


def test_range_requests_and_downloads_during_a_fill(start_imsd, obs_s3):
    """While one download fills (held by its client, so imsd cannot have
    read the image to its end), Range requests and other downloads read
    S3 and get exact bytes; the fill then completes, exact."""
    srv = cache_server(start_imsd, obs_s3, ABANDONED_SIZE + MIB)
    api = srv.admin()
    img, data = image_with_data(api, ABANDONED_SIZE)
    filling = srv.admin()
    r = filling.get("/v2/images/%s/file" % img["id"], stream=True)
    assert r.status_code == 200
    chunks = r.iter_content(64 * 1024)
    first = next(chunks)
    assert len(temp_files(srv)) == 1
    for first_byte, last_byte in ((0, 999), (1000, 2999), (len(data) - 10, len(data) - 1)):
        rr = api.get("/v2/images/%s/file" % img["id"], headers={"Range": "bytes=%d-%d" % (first_byte, last_byte)})
        assert rr.status_code == 206 and rr.content == data[first_byte:last_byte + 1]
    assert download(api, img["id"]) == data
    assert cached_files(srv) == {} and len(temp_files(srv)) == 1
    assert first + b"".join(chunks) == data
    settle(srv)
    assert cached_files(srv) == {img["id"]: data}


@pytest.fixture
def proxied_cache(start_imsd, obs_s3):
    proxy = FaultProxy.for_endpoint(obs_s3["S3_ENDPOINT"])
    config = proxied_store_config(obs_s3, proxy, "cf-" + uuid.uuid4().hex[:20])
    config["cache"] = {"max_size": 16 * MIB}
    srv = start_imsd(config=config)
    srv.cache = srv.data_dir / "cache"
    srv.proxy = proxy
    yield srv
    proxy.close()


def test_a_cut_and_resumed_s3_read_fills_the_exact_file(proxied_cache):
    srv, proxy = proxied_cache, proxied_cache.proxy
    api = srv.admin()
    img, data = image_with_data(api, 3 * MIB + 11)
    proxy.cut(2, after=MIB + 17)
    assert download(api, img["id"]) == data
    assert proxy.count("cut %d" % (MIB + 17)) == 2
    settle(srv)
    assert cached_files(srv) == {img["id"]: data}


def test_an_s3_read_failing_midway_leaves_no_file(proxied_cache):
    """GETs failing once the answer's head went: the body ends short and
    the fill is abandoned; once S3 answers again a download fills."""
    srv, proxy = proxied_cache, proxied_cache.proxy
    api = srv.admin()
    img, data = image_with_data(api, 3 * MIB + 11)
    proxy.fail(None, method="GET")
    try:
        r = api.get("/v2/images/%s/file" % img["id"])
        assert r.status_code == 200 and len(r.content) < len(data)
    except Exception as e:  # the connection closed short of the announced length
        assert "IncompleteRead" in repr(e) or "ChunkedEncodingError" in repr(e) or "ConnectionError" in repr(e), e
    settle(srv)
    assert cached_files(srv) == {}
    proxy.clear()
    assert download(api, img["id"]) == data
    settle(srv)
    assert cached_files(srv) == {img["id"]: data}


def test_the_fills_together_hold_no_more_than_their_memory(start_imsd, obs_s3, monkeypatch):
    """[cache] fill_memory_mib = 8 and each block's write held back 1 s:
    three first downloads of 24 MiB images at once would hold 72 MiB of
    blocks their writers have not written (each fill up to 32 MiB); they
    share 8 MiB instead, the fills that find none left give up (logged),
    every client's bytes are exact and imsd's peak RSS grows by less than
    the fills would have held."""
    monkeypatch.setenv("IMSD_TEST_CACHE_WRITE_DELAY_MS", "1000")
    bucket = "ca-" + uuid.uuid4().hex[:20]
    config = store_config(obs_s3, bucket)
    config["cache"] = {"max_size": 128 * MIB, "fill_memory_mib": 8}
    srv = start_imsd(config=config)
    srv.cache = srv.data_dir / "cache"
    api = srv.admin()
    images = [image_with_data(api, 24 * MIB) for _ in range(3)]
    reset_vm_hwm(srv)
    before = vm_hwm_kib(srv)
    got = {}

    def client(img):
        got[img["id"]] = download(srv.admin(), img["id"])

    threads = [threading.Thread(target=client, args=(img,)) for img, _ in images]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == {img["id"]: data for img, data in images}
    wait_for(lambda: "image cache: not cached this time: the cache fills' memory ([cache] fill_memory_mib) is all taken"
             in srv.log_path.read_text(errors="replace"), what="a fill to give up")
    grown = vm_hwm_kib(srv) - before
    settle(srv)
    assert cached_files(srv) == {}
    if not imsd_is_sanitized():  # glibc's allocator is what this measures
        assert grown < 40 * 1024, "peak RSS grew by %d KiB over three fills of 8 MiB in all" % grown


def test_the_prefetcher_waits_for_the_fill_memory_a_download_holds(start_imsd, obs_s3, monkeypatch):
    """[cache] fill_memory_mib = 12, each block's write held back 100 ms,
    a first download held by its client (its fill holds blocks until it
    ends): the prefetch of a 24 MiB image, larger than the whole budget,
    finds the budget taken and waits for blocks (logged) where a client's
    download would give its fill up; the download, once its client reads
    on, gets every byte; the prefetch completes with the exact file and
    imsd stops cleanly (the fixture's check: nothing waits forever)."""
    monkeypatch.setenv("IMSD_TEST_CACHE_WRITE_DELAY_MS", "100")
    bucket = "ca-" + uuid.uuid4().hex[:20]
    config = store_config(obs_s3, bucket)
    config["cache"] = {"max_size": 128 * MIB, "fill_memory_mib": 12}
    srv = start_imsd(config=config)
    srv.cache = srv.data_dir / "cache"
    api = srv.admin()
    held, held_data = image_with_data(api, 16 * MIB)
    big, big_data = image_with_data(api, 24 * MIB)
    s, got = held_download(srv, api, held["id"])
    try:
        wait_for(lambda: len(temp_files(srv)) == 1, what="the held download's fill to begin")
        assert api.put("/v2/cache/%s" % big["id"]).status_code == 202
        wait_for(lambda: "image cache: the prefetch waits for the cache fills' memory" in
                 srv.log_path.read_text(errors="replace"), timeout=60, what="the prefetch to find the budget taken")
        while len(got) < len(held_data):
            chunk = s.recv(1 << 20)
            assert chunk, "the held download ended after %d bytes" % len(got)
            got += chunk
    finally:
        s.close()
    assert got == held_data
    wait_for(lambda: big["id"] in cached_files(srv), timeout=120, what="the prefetch to complete")
    settle(srv)
    assert cached_files(srv)[big["id"]] == big_data
    log = srv.log_path.read_text(errors="replace")
    assert "image cache: prefetched %s" % big["id"] in log
