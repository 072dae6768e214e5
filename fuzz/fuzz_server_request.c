/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: the bodies of the calls that make images from servers, data
 * disks and backups (lib/query/server_request.c). Every input goes through
 * both parsers (POST /v2/cloudimages/action without image_url, POST
 * /v1/cloudimages/wholeimages/action); whatever parses respects the
 * documented limits, and every refusal is a 400 with an IMS error code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ims/server_request.h"
#include "ims/tags.h"

static bool ref_ok(const char *s)
{
    return s && *s && strlen(s) <= IMS_SERVER_REF_MAX && ims_text_valid(s);
}

static void check_naming(const char *name, const char *desc, const struct ims_strlist *tags)
{
    fuzz_check(name && *name && strlen(name) <= 128 && ims_text_valid(name), "name");
    fuzz_check(!desc || (ims_utf8_chars(desc) <= 1024 && !strpbrk(desc, "<>\r\n")), "description");
    fuzz_check(tags->n <= IMS_TAGS_PER_IMAGE_MAX, "tag count");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    for (int whole = 0; whole <= 1; whole++) {
        struct ims_err err;
        struct ims_server_image_request r;
        enum ims_rc rc = ims_server_image_request_parse(whole, body, size, &r, &err);
        fuzz_check(rc == IMS_OK || rc == IMS_E_BADREQ, "parsers fail with 400 only");
        if (rc != IMS_OK) {
            fuzz_check(err.code[0] && strncmp(err.code, "IMG.", 4) == 0, "a refusal carries an IMS code");
            continue;
        }
        fuzz_check(r.enterprise_project_id && r.type, "defaults set");
        fuzz_check(r.n_data <= IMS_SERVER_DATA_IMAGES_MAX, "data image count");
        switch (r.kind) {
        case IMS_SI_SERVER:
            fuzz_check(!whole && ref_ok(r.instance_id) && !r.volume_id, "server");
            break;
        case IMS_SI_DATA:
            fuzz_check(!whole && !r.instance_id && !r.volume_id && r.n_data > 0 && !r.name, "data disks");
            break;
        case IMS_SI_VOLUME:
            fuzz_check(!whole && ref_ok(r.volume_id) && r.os_version && r.n_data == 0, "volume");
            break;
        case IMS_SI_WHOLE_SERVER:
            fuzz_check(whole && ref_ok(r.instance_id) && !r.backup_id && r.n_data == 0, "whole server");
            break;
        case IMS_SI_WHOLE_BACKUP:
            fuzz_check(whole && ref_ok(r.backup_id) && !r.instance_id && r.whole_image_type && r.n_data == 0,
                  "whole backup");
            break;
        }
        if (r.kind != IMS_SI_DATA)
            check_naming(r.name, r.description, &r.tags);
        fuzz_check(r.min_ram >= -1 && r.max_ram >= -1, "memory");
        for (size_t i = 0; i < r.n_data; i++) {
            check_naming(r.data_images[i].name, r.data_images[i].description, &r.data_images[i].tags);
            fuzz_check(ref_ok(r.data_images[i].volume_id), "volume id");
            for (size_t j = 0; j < i; j++)
                fuzz_check(strcmp(r.data_images[i].volume_id, r.data_images[j].volume_id), "each disk once");
        }
        ims_server_image_request_release(&r);
    }
    return 0;
}
