/* SPDX-License-Identifier: Apache-2.0
 * Image data: the streaming upload sink (PUT .../file) and the download
 * (GET .../file) with Range support. Nothing buffers a whole body. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api-int.h"
#include "ims/config.h"
#include "ims/image.h"
#include "ims/upload.h"

static enum ims_rc upload_begin(struct ims_request *req)
{
    struct ims_err err = {0};
    enum ims_rc rc = IMS_OK;
    int64_t expected = -1;
    if (!api_content_type_is(req, "application/octet-stream")) {
        rc = ims_fail(&err, IMS_E_MEDIA, "Unsupported Content-Type: image data must be application/octet-stream.");
        goto out;
    }
    const char *declared = ims_req_header(req, "x-openstack-image-size");
    if (declared && !ims_parse_i64(declared, 0, INT64_MAX, &expected)) {
        rc = ims_fail(&err, IMS_E_BADREQ, "Invalid x-openstack-image-size: %s", declared);
        goto out;
    }
    const char *cl = ims_req_header(req, "Content-Length");
    int64_t content_length;
    if (cl && ims_parse_i64(cl, 0, INT64_MAX, &content_length)) {
        if (content_length > req->svc->cfg->max_image_size) {
            rc = ims_fail(&err, IMS_E_TOOLARGE, "Image exceeds the maximum image size of %lld bytes.",
                          (long long)req->svc->cfg->max_image_size);
            goto out;
        }
        if (expected >= 0 && content_length != expected) {
            rc = ims_fail(&err, IMS_E_BADREQ, "x-openstack-image-size %lld does not match Content-Length %lld.",
                          (long long)expected, (long long)content_length);
            goto out;
        }
        /* the body's size, which libmicrohttpd holds the client to: the
         * store may write a blob of known size as one piece (S3: one PUT) */
        if (expected < 0)
            expected = content_length;
    }
    struct ims_upload *u = NULL;
    rc = ims_upload_begin(req->svc, req->principal, ims_req_param(req, 0), expected, &u, &err);
    req->sink_state = u;
out:
    if (rc != IMS_OK)
        api_fail(req, rc, &err);
    return rc;
}

static enum ims_rc upload_data(struct ims_request *req, const char *p, size_t n)
{
    struct ims_err err = {0};
    enum ims_rc rc = ims_upload_write(req->sink_state, p, n, &err);
    if (rc != IMS_OK) {
        ims_upload_abort(req->sink_state);
        req->sink_state = NULL;
        api_fail(req, rc, &err);
    }
    return rc;
}

static size_t upload_room(struct ims_request *req, void (*wake)(void *arg), void *arg)
{
    return ims_upload_room(req->sink_state, wake, arg);
}

static void upload_end(struct ims_request *req)
{
    struct ims_err err = {0};
    struct ims_image img;
    enum ims_rc rc = ims_upload_finish(IMS_TAKE_PTR(req->sink_state), &img, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    ims_image_release(&img);
    ims_resp_empty(req, 204);
}

static void upload_abort(struct ims_request *req)
{
    ims_upload_abort(IMS_TAKE_PTR(req->sink_state));
}

const struct ims_body_sink api_images_upload = {
    .begin = upload_begin,
    .data = upload_data,
    .room = upload_room,
    .end = upload_end,
    .abort = upload_abort,
};

void api_images_download(struct ims_request *req)
{
    struct ims_err err = {0};
    struct ims_image img;
    struct ims_blob_reader rd;
    enum ims_rc rc = ims_images_open_data(req->svc, req->principal, ims_req_param(req, 0), &img, &rd, &err);
    if (rc != IMS_OK) {
        api_fail(req, rc, &err);
        return;
    }
    if (!img.blob) {
        ims_image_release(&img);
        ims_resp_empty(req, 204);
        return;
    }
    uint64_t first = 0, last = rd.size ? rd.size - 1 : 0;
    int status = 200;
    enum ims_rc rr = ims_range_parse(ims_req_header(req, "Range"), rd.size, &first, &last);
    char value[96];
    if (rr == IMS_E_RANGE) {
        if (rd.fd >= 0)
            close(rd.fd);
        if (rd.close)
            rd.close(rd.ctx);
        snprintf(value, sizeof(value), "bytes */%llu", (unsigned long long)rd.size);
        ims_resp_header(req, "Content-Range", value);
        ims_image_release(&img);
        ims_http_error(req, 416, "Requested range not satisfiable.");
        return;
    }
    if (rr == IMS_OK) {
        status = 206;
        snprintf(value, sizeof(value), "bytes %llu-%llu/%llu", (unsigned long long)first, (unsigned long long)last,
                 (unsigned long long)rd.size);
        ims_resp_header(req, "Content-Range", value);
    } else if (img.checksum) {
        ims_resp_header(req, "Content-MD5", img.checksum);
    }
    uint64_t length = rd.size ? last - first + 1 : 0;
    req->resp.status = status;
    req->resp.content_type = "application/octet-stream";
    req->resp.fd = rd.fd;
    req->resp.reader = rd.read;
    req->resp.reader_ctx = rd.ctx;
    req->resp.reader_free = rd.close;
    req->resp.range_offset = first;
    req->resp.range_length = length;
    ims_image_release(&img);
}
