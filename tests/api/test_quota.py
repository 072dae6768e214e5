"""GET /v1/cloudimages/quota (reference ims_apis/image_quota/querying_the_image_quota.md)
and quota enforcement on image creation."""
from helpers import create_image, unique


def quota(api):
    r = api.get("/v1/cloudimages/quota")
    assert r.status_code == 200, r.text
    body = r.json()
    res = body["quotas"]["resources"]
    assert len(res) == 1 and set(res[0]) == {"type", "used", "quota", "min", "max"}, body
    assert res[0]["type"] == "image"
    return res[0]


def test_default_quota_and_usage(make_project_user):
    api = make_project_user()
    q = quota(api)
    assert q == {"type": "image", "used": 0, "quota": 10000, "min": 1, "max": 100000}
    create_image(api)
    create_image(api)
    assert quota(api)["used"] == 2


def test_configured_default_and_enforcement(start_imsd):
    srv = start_imsd(config={"images": {"quota_default": 2}})
    api = srv.project_user()
    assert quota(api)["quota"] == 2
    create_image(api)
    create_image(api)
    r = api.post("/v2/images", json={"name": unique("over")})
    assert r.status_code == 400, r.text
    assert "maximum allowed" in r.text
    assert quota(api)["used"] == 2
    # deleting frees room
    first = api.get("/v2/images").json()["images"][0]["id"]
    assert api.delete("/v2/images/%s" % first).status_code == 204
    create_image(api)


def test_imsctl_quota_set(start_imsd):
    srv = start_imsd(config={"images": {"quota_default": 1}})
    api = srv.project_user()
    create_image(api)
    assert api.post("/v2/images", json={"name": "x"}).status_code == 400
    srv.imsctl("quota", "set", api.project_name, "3")
    assert quota(api)["quota"] == 3
    assert "1 of 3" in srv.imsctl("quota", "show", api.project_id)
    create_image(api)
    create_image(api)
    assert api.post("/v2/images", json={"name": "x"}).status_code == 400
    # other projects keep the default
    other = srv.project_user()
    assert quota(other)["quota"] == 1


def test_imsctl_quota_set_refuses_bad_values(imsd, alice):
    from helpers import IMSCTL_BIN, clean_env
    import subprocess
    for bad in ("0", "-1", "many", "100001"):
        r = subprocess.run([IMSCTL_BIN, "--data-dir", str(imsd.data_dir), "quota", "set", alice.project_name, bad],
                           capture_output=True, text=True, env=clean_env())
        assert r.returncode != 0, bad


def test_copy_counts_against_the_quota(start_imsd):
    """Replication makes a new image: refused at submission with IMG.0015
    when the project is full, accepted again once there is room."""
    from helpers import active_image
    from job_helpers import run
    srv = start_imsd(config={"images": {"quota_default": 1}})
    api = srv.project_user()
    src = active_image(api, data=b"q" * 1000, visibility="private")
    r = api.post("/v1/cloudimages/%s/copy" % src["id"], json={"name": "over-quota"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "IMG.0015"
    srv.imsctl("quota", "set", api.project_name, "2")
    job = run(api, "POST", "/v1/cloudimages/%s/copy" % src["id"], {"name": "fits"})
    assert job["status"] == "SUCCESS", job
    assert quota(api)["used"] == 2


def test_concurrent_creates_never_pass_the_quota(start_imsd):
    """The count is checked inside the insert's transaction: creates racing
    on two HTTP threads cannot both take the last place."""
    import threading
    from helpers import Api
    srv = start_imsd(config={"images": {"quota_default": 5}})
    api = srv.project_user()
    codes = []
    lock = threading.Lock()

    def worker(n):
        s = Api(srv.url, api.token)
        for i in range(5):
            r = s.post("/v2/images", json={"name": "race-%d-%d" % (n, i)},
                       headers={"Connection": "close"})
            with lock:
                codes.append(r.status_code)
        s.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201] * 5 + [400] * 15, codes
    assert quota(api)["used"] == 5
    assert len(api.get("/v2/images").json()["images"]) == 5
    assert "projects whose image count is wrong: 0" in srv.imsctl("db", "check")
