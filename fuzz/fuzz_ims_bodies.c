/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: the JSON bodies of the IMS API that fuzz/fuzz_image_tags.c
 * (the tag calls) does not cover, through the parsers their handlers call.
 * The first byte chooses the body, the rest is the body as sent:
 *   0, 1, 2 batch sharing: POST, PUT, DELETE /v1/cloudimages/members
 *   3 replication: POST /v1/cloudimages/{image_id}/copy
 *   4 PATCH /v2/cloudimages/{image_id} (the IMS dialect), applied to an
 *     image as its owner would.
 * Invariants: a refusal is a 400 with an IMS error code; what is accepted
 * obeys the documented limits (ids well formed and distinct, counts, name
 * and description rules). */
#include <stdlib.h>
#include <string.h>

#include "../lib/api/api-int.h"
#include "../lib/query/query-int.h"
#include "fuzz.h"
#include "ims/copy.h"
#include "ims/image.h"
#include "ims/patch.h"

#define CALLER "0123456789abcdef0123456789abcdef"

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void check_refusal(enum ims_rc rc, const struct ims_err *err)
{
    check(rc == IMS_E_BADREQ && strncmp(err->code, "IMG.", 4) == 0 && err->msg[0] && ims_text_valid(err->msg));
}

/* An array of 1..max distinct strings each satisfying valid(). */
static void check_set(json_t *a, size_t max, bool (*valid)(const char *))
{
    check(json_is_array(a) && json_array_size(a) >= 1 && json_array_size(a) <= max);
    size_t i, j;
    json_t *v, *w;
    json_array_foreach(a, i, v)
    {
        check(json_is_string(v) && valid(json_string_value(v)));
        json_array_foreach(a, j, w) check(i == j || strcmp(json_string_value(v), json_string_value(w)) != 0);
    }
}

static void members(enum ims_method m, const char *body, size_t len)
{
    struct ims_err err = {0};
    const char *type = NULL;
    json_t *input = NULL;
    enum ims_rc rc = api_ims_members_parse(body, len, m, CALLER, &type, &input, &err);
    if (rc != IMS_OK) {
        check_refusal(rc, &err);
        return;
    }
    check(type != NULL);
    check_set(json_object_get(input, "images"), 100, ims_uuid_valid);
    if (m == IMS_PUT) {
        check(ims_streq(json_string_value(json_object_get(input, "project_id")), CALLER));
        const char *status = json_string_value(json_object_get(input, "status"));
        check(ims_streq(status, "accepted") || ims_streq(status, "rejected"));
    } else {
        json_t *projects = json_object_get(input, "projects");
        check_set(projects, 256, ims_project_id_valid);
        if (m == IMS_POST && json_array_size(projects) == 1)
            check(!ims_streq(json_string_value(json_array_get(projects, 0)), CALLER));
    }
    json_decref(input);
}

static void copy(const char *data, size_t len)
{
    json_t *body = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(body)) {
        json_decref(body);
        return;
    }
    struct ims_copy_spec spec;
    struct ims_err err = {0};
    enum ims_rc rc = api_ims_copy_parse(body, &spec, &err);
    if (rc != IMS_OK) {
        check_refusal(rc, &err);
    } else {
        /* the name rule of every IMS route (an ASCII name of 1 to 128) */
        check(ims_image_name_check(spec.name, IMS_NAMES_IMS, &err) == IMS_OK);
        check(!spec.description || (strlen(spec.description) <= 1024 && !strpbrk(spec.description, "<>\r\n")));
        check(spec.enterprise_project_id && *spec.enterprise_project_id);
    }
    json_decref(body);
}

static void cloudimage_patch(const char *data, size_t len)
{
    struct ims_patch p = {0};
    char *ep = NULL;
    struct ims_err err = {0};
    enum ims_rc rc = ims_cloudimage_patch_parse(data, len, &p, &ep, &err);
    if (rc != IMS_OK) {
        check_refusal(rc, &err);
        ims_patch_release(&p);
        return;
    }
    check(!ep || *ep);
    struct ims_image img;
    ims_image_init(&img);
    ims_set_str(&img.name, "seed");
    ims_set_str(&img.owner, "project");
    ims_kvlist_add(&img.props, "__os_version", "Ubuntu 22.04 server 64bit");
    rc = ims_patch_apply(&p, &img, false, &err);
    check(rc == IMS_OK || rc == IMS_E_BADREQ || rc == IMS_E_FORBIDDEN || rc == IMS_E_CONFLICT ||
          rc == IMS_E_TOOLARGE);
    if (rc == IMS_OK) {
        /* The IMS rules hold for what the image now stores. */
        check(ims_streq(img.owner, "project") && img.props.n <= IMS_IMAGE_PROPS_MAX);
        check(img.name && ims_image_name_check(img.name, IMS_NAMES_IMS, &err) == IMS_OK);
        const char *desc = ims_kvlist_get(&img.props, "__description");
        check(!desc || ims_cloudimage_check_description(desc, &err) == IMS_OK);
        const char *fw = ims_kvlist_get(&img.props, "hw_firmware_type");
        check(!fw || ims_streq(fw, "bios") || ims_streq(fw, "uefi"));
        check(img.min_ram >= 0 && img.min_ram <= 2147483647);
    }
    ims_image_release(&img);
    ims_patch_release(&p);
    free(ep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0] % 5) {
    case 0: members(IMS_POST, body, len); break;
    case 1: members(IMS_PUT, body, len); break;
    case 2: members(IMS_DELETE, body, len); break;
    case 3: copy(body, len); break;
    default: cloudimage_patch(body, len); break;
    }
    return 0;
}
