/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: the bodies of the import, registration and export calls
 * (lib/query/import_request.c). Every input goes through every parser;
 * whatever parses must respect the documented limits, and every refusal
 * must be a 400 with an IMS error code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ims/import_request.h"
#include "ims/tags.h"

static void check_url(const struct ims_obs_url *u)
{
    fuzz_check(u->bucket && *u->bucket && !strchr(u->bucket, ':') && u->object && *u->object, "bucket:object split");
}

static void check_image(const struct ims_import_image *im, int64_t max_disk)
{
    fuzz_check(im->name && *im->name && strlen(im->name) <= 128, "name length");
    fuzz_check(!im->description || ims_utf8_chars(im->description) <= 1024, "description length");
    fuzz_check(im->min_disk >= 1 && im->min_disk <= max_disk, "min_disk range");
    fuzz_check(im->tags.n <= IMS_TAGS_PER_IMAGE_MAX, "tag count");
    check_url(&im->file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    struct ims_err err;
    for (int route = IMS_IMPORT_FILE; route <= IMS_IMPORT_DATA_FILE; route++) {
        struct ims_import_request r;
        enum ims_rc rc = ims_import_request_parse(route, body, size, &r, &err);
        fuzz_check_ims_refusal(rc, &err);
        if (rc != IMS_OK)
            continue;
        check_image(&r.image, 2048);
        fuzz_check(r.n_data <= IMS_IMPORT_DATA_IMAGES_MAX, "data image count");
        for (size_t i = 0; i < r.n_data; i++)
            check_image(&r.data_images[i], 2048);
        fuzz_check(r.enterprise_project_id && r.type, "defaults set");
        fuzz_check(!r.hw_firmware_type || !strcmp(r.hw_firmware_type, "bios") || !strcmp(r.hw_firmware_type, "uefi"),
              "firmware");
        ims_import_request_release(&r);
    }
    struct ims_obs_url u;
    enum ims_rc rc = ims_register_request_parse(body, size, &u, &err);
    fuzz_check_ims_refusal(rc, &err);
    if (rc == IMS_OK) {
        check_url(&u);
        ims_obs_url_release(&u);
    }
    struct ims_export_request x;
    rc = ims_export_request_parse(body, size, &x, &err);
    fuzz_check_ims_refusal(rc, &err);
    if (rc == IMS_OK) {
        check_url(&x.target);
        fuzz_check(x.quick == (x.file_format == NULL), "a format unless quick");
        ims_export_request_release(&x);
    }
    return 0;
}
