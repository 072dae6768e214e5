/* SPDX-License-Identifier: Apache-2.0
 * The bodies of the calls that make images from servers, data disks and
 * backups, as the reference documents them (creating_an_image: "from an
 * ECS", "using a data disk"; creating_a_full-ecs_image), each refusal with
 * its IMS error code. Pure: the OS table is compiled in. */
#include <jansson.h>
#include <string.h>

#include "ims/os_version.h"
#include "ims/server_request.h"
#include "query-int.h"

#define BAD(code, ...) ims_fail_code(err, IMS_E_BADREQ, code, __VA_ARGS__)
#define RAM_MAX 2147483647

static void data_release(struct ims_server_data_image *d)
{
    free(d->name);
    free(d->description);
    free(d->volume_id);
    ims_strlist_release(&d->tags);
    *d = (struct ims_server_data_image){0};
}

void ims_server_image_request_release(struct ims_server_image_request *r)
{
    free(r->name);
    free(r->description);
    ims_strlist_release(&r->tags);
    free(r->instance_id);
    free(r->volume_id);
    free(r->backup_id);
    free(r->vault_id);
    free(r->whole_image_type);
    free(r->os_version);
    free(r->type);
    free(r->enterprise_project_id);
    for (size_t i = 0; i < r->n_data; i++)
        data_release(&r->data_images[i]);
    *r = (struct ims_server_image_request){0};
}

size_t ims_server_image_request_count(const struct ims_server_image_request *r)
{
    return (r->kind == IMS_SI_DATA ? 0 : 1) + r->n_data;
}

/* An id member: present (not null) means given; then a non-empty string of
 * at most IMS_SERVER_REF_MAX bytes (`code` otherwise: the reference's
 * "not specified" code for the member). */
static enum ims_rc id_member(json_t *o, const char *key, const char *code, char **ret, struct ims_err *err)
{
    const char *s;
    enum ims_rc rc = ims_qbody_str(o, key, code, &s, err);
    if (rc != IMS_OK || !s)
        return rc;
    if (!*s)
        return BAD(code, "'%s' is empty.", key);
    if (strlen(s) > IMS_SERVER_REF_MAX)
        return BAD(code, "'%s' is longer than %d characters.", key, IMS_SERVER_REF_MAX);
    *ret = ims_xstrdup(s);
    return IMS_OK;
}

/* name (required: IMG.0013), description, tags. */
static enum ims_rc naming(json_t *o, char **name, char **description, struct ims_strlist *tags, struct ims_err *err)
{
    const char *n, *d;
    enum ims_rc rc = ims_qbody_str(o, "name", "IMG.0003", &n, err);
    if (rc != IMS_OK)
        return rc;
    if (!n || !*n)
        return BAD("IMG.0013", "The image name is not specified.");
    if ((rc = ims_image_name_check(n, IMS_NAMES_IMS, err)) != IMS_OK)
        return rc;
    if ((rc = ims_qbody_str(o, "description", "IMG.0054", &d, err)) != IMS_OK)
        return rc;
    if (d && (rc = ims_cloudimage_check_description(d, err)) != IMS_OK)
        return rc;
    if ((rc = ims_qbody_tags(o, tags, err)) != IMS_OK)
        return rc;
    *name = ims_xstrdup(n);
    *description = d && *d ? ims_xstrdup(d) : NULL;
    return IMS_OK;
}

/* enterprise project, memory, image type. */
static enum ims_rc settings(json_t *o, struct ims_server_image_request *r, struct ims_err *err)
{
    static const char *const types[] = {"ECS", "BMS", "FusionCompute", "Ironic"};
    const char *ep, *type;
    enum ims_rc rc = ims_qbody_str(o, "enterprise_project_id", "IMG.0155", &ep, err);
    if (rc != IMS_OK)
        return rc;
    if (ep && *ep && strcmp(ep, "0") && !ims_uuid_valid(ep))
        return BAD("IMG.0155", "Invalid enterprise_project_id: it must be \"0\" or an enterprise project UUID.");
    r->min_ram = r->max_ram = -1;
    if ((rc = ims_qbody_int(o, "min_ram", 0, RAM_MAX, &r->min_ram, err)) != IMS_OK ||
        (rc = ims_qbody_int(o, "max_ram", 0, RAM_MAX, &r->max_ram, err)) != IMS_OK)
        return rc;
    if (r->min_ram > 0 && r->max_ram > 0 && r->max_ram < r->min_ram)
        return BAD("IMG.0055", "max_ram (%lld MB) is less than min_ram (%lld MB).", (long long)r->max_ram,
                   (long long)r->min_ram);
    if ((rc = ims_qbody_str(o, "type", "IMG.0024", &type, err)) != IMS_OK)
        return rc;
    bool known = !type;
    for (size_t i = 0; type && i < IMS_ARRAY_SIZE(types); i++)
        known = known || ims_streq(type, types[i]);
    if (!known)
        return BAD("IMG.0024", "The image type %.32s is incorrect: ECS, BMS, FusionCompute or Ironic.", type);
    r->type = ims_xstrdup(type ? type : "ECS");
    r->enterprise_project_id = ims_xstrdup(ep && *ep ? ep : "0");
    return IMS_OK;
}

/* data_images (Table 1 of creating_an_image): name and volume_id each, no
 * disk named twice (IMG.0123). */
static enum ims_rc data_images(json_t *list, struct ims_server_image_request *r, struct ims_err *err)
{
    if (!json_is_array(list))
        return BAD("IMG.0001", "'data_images' must be an array.");
    if (json_array_size(list) > IMS_SERVER_DATA_IMAGES_MAX)
        return BAD("IMG.0001", "A server has at most %d data disks.", IMS_SERVER_DATA_IMAGES_MAX);
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d)
    {
        if (!json_is_object(d))
            return BAD("IMG.0001", "Each entry of 'data_images' must be an object.");
        struct ims_server_data_image *im = &r->data_images[r->n_data++];
        enum ims_rc rc = naming(d, &im->name, &im->description, &im->tags, err);
        if (rc == IMS_OK)
            rc = id_member(d, "volume_id", "IMG.0120", &im->volume_id, err);
        if (rc == IMS_OK && !im->volume_id)
            rc = BAD("IMG.0120", "Each entry of 'data_images' names its data disk (volume_id).");
        if (rc != IMS_OK)
            return rc;
        for (size_t j = 0; j + 1 < r->n_data; j++)
            if (ims_streq(r->data_images[j].volume_id, im->volume_id))
                return BAD("IMG.0001", "The data disk %s is named twice.", im->volume_id);
    }
    return IMS_OK;
}

static enum ims_rc parse_create(json_t *o, struct ims_server_image_request *r, struct ims_err *err)
{
    enum ims_rc rc;
    if ((rc = id_member(o, "instance_id", "IMG.0012", &r->instance_id, err)) != IMS_OK ||
        (rc = id_member(o, "volume_id", "IMG.0120", &r->volume_id, err)) != IMS_OK)
        return rc;
    json_t *list = json_object_get(o, "data_images");
    if (json_is_null(list))
        list = NULL;
    if (r->instance_id && r->volume_id)
        return BAD("IMG.0001", "Give instance_id (an image of a server) or volume_id (a system-disk image of a "
                               "data disk), not both.");
    if (r->instance_id)
        r->kind = IMS_SI_SERVER;
    else if (r->volume_id)
        r->kind = IMS_SI_VOLUME;
    else if (list && json_is_array(list) && json_array_size(list) > 0)
        r->kind = IMS_SI_DATA;
    else
        return BAD("IMG.0012", "The ECS ID is not specified: give image_url, instance_id, volume_id or "
                               "data_images.");
    if (r->kind == IMS_SI_VOLUME && list)
        return BAD("IMG.0001", "'data_images' goes with instance_id, not with volume_id.");
    if (r->kind != IMS_SI_DATA && (rc = naming(o, &r->name, &r->description, &r->tags, err)) != IMS_OK)
        return rc;
    if ((rc = settings(o, r, err)) != IMS_OK)
        return rc;
    const char *os_version;
    if ((rc = ims_qbody_str(o, "os_version", "IMG.0056", &os_version, err)) != IMS_OK)
        return rc;
    if (r->kind == IMS_SI_VOLUME) {
        /* the data disk's OS cannot be seen: the caller names it */
        if (!os_version || !*os_version)
            return BAD("IMG.0056", "os_version is required to make a system-disk image from a data disk.");
        if (!ims_os_table_find(ims_os_table_builtin(), os_version))
            return BAD("IMG.0056", "Invalid OS version %.64s: see GET /v1/cloudimages/os_version.", os_version);
        r->os_version = ims_xstrdup(os_version);
    }
    return list ? data_images(list, r, err) : IMS_OK;
}

static enum ims_rc parse_whole(json_t *o, struct ims_server_image_request *r, struct ims_err *err)
{
    enum ims_rc rc;
    const char *wit;
    if ((rc = id_member(o, "instance_id", "IMG.0012", &r->instance_id, err)) != IMS_OK ||
        (rc = id_member(o, "backup_id", "IMG.0019", &r->backup_id, err)) != IMS_OK ||
        (rc = id_member(o, "vault_id", "IMG.0184", &r->vault_id, err)) != IMS_OK ||
        (rc = ims_qbody_str(o, "whole_image_type", "IMG.0198", &wit, err)) != IMS_OK)
        return rc;
    if (wit && *wit && strcmp(wit, "CBR") && strcmp(wit, "CSBS"))
        return BAD("IMG.0198", "whole_image_type must be CBR or CSBS.");
    if (r->instance_id && r->backup_id)
        return BAD("IMG.0001", "Give instance_id (a full-ECS image of a server) or backup_id (of a backup), not "
                               "both.");
    if (!r->instance_id && !r->backup_id)
        return wit && *wit ? BAD("IMG.0019", "The backup ID is not specified.")
                           : BAD("IMG.0012", "The ECS ID is not specified: give instance_id or backup_id.");
    if (r->instance_id && wit && *wit)
        return BAD("IMG.0001", "whole_image_type goes with backup_id.");
    if (r->backup_id && r->vault_id)
        return BAD("IMG.0001", "vault_id goes with instance_id.");
    /* a CBR vault's id, as the reference's examples show it; imsd has no
     * CBR service to ask whether it exists (README) */
    if (r->vault_id && !ims_uuid_valid(r->vault_id))
        return BAD("IMG.0184", "Failed to obtain the vault: vault_id must be a vault's id (a UUID).");
    r->kind = r->instance_id ? IMS_SI_WHOLE_SERVER : IMS_SI_WHOLE_BACKUP;
    if (r->backup_id)
        r->whole_image_type = ims_xstrdup(wit && *wit ? wit : "CSBS");
    if (json_object_get(o, "data_images") || json_object_get(o, "volume_id"))
        return BAD("IMG.0001", "A full-ECS image takes every disk of its server: no data_images or volume_id.");
    if ((rc = naming(o, &r->name, &r->description, &r->tags, err)) != IMS_OK)
        return rc;
    return settings(o, r, err);
}

enum ims_rc ims_server_image_request_parse(bool whole, const char *body, size_t len,
                                           struct ims_server_image_request *ret, struct ims_err *err)
{
    json_t *o;
    enum ims_rc rc = ims_qbody_load(body, len, &o, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_server_image_request r = {0};
    rc = whole ? parse_whole(o, &r, err) : parse_create(o, &r, err);
    json_decref(o);
    if (rc != IMS_OK) {
        ims_server_image_request_release(&r);
        return rc;
    }
    *ret = r;
    return IMS_OK;
}
