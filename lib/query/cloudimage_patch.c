/* SPDX-License-Identifier: Apache-2.0
 * PATCH /v2/cloudimages/{image_id}: the IMS dialect of image updates,
 * validated here and translated into the Glance operations patch.c applies
 * (one apply for both APIs). Pure: no I/O. */
#include <stdio.h>
#include <string.h>

#include "ims/patch.h"
#include "query-int.h"

#define IMS_DESCRIPTION_MAX 1024
#define IMS_PATCH_OPS_MAX 128

/* Attributes the reference lists as updatable, besides extension ones. */
static const char *const documented[] = {
    "name", "__description", "__support_xen", "__support_largememory", "__support_diskintensive",
    "__support_highperformance", "__support_xen_gpu_type", "__support_kvm_gpu_type", "__support_xen_hana",
    "__is_config_init", "enterprise_project_id", "min_ram", "max_ram", "hw_vif_multiqueue_enabled",
    "hw_firmware_type", "__support_kvm_infiniband", "__support_fc_inject", "__support_amd",
    "__support_kvm_hi1822_hisriov", "__support_kvm_hi1822_hivirtionet", "__support_kvm",
};

static bool is_documented(const char *attr)
{
    for (size_t i = 0; i < IMS_ARRAY_SIZE(documented); i++)
        if (strcmp(attr, documented[i]) == 0)
            return true;
    return false;
}

enum ims_rc ims_cloudimage_check_description(const char *v, struct ims_err *err)
{
    if (ims_utf8_chars(v) > IMS_DESCRIPTION_MAX)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0004", "The description contains more than %d characters.",
                             IMS_DESCRIPTION_MAX);
    if (strpbrk(v, "<>\r\n"))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0054",
                             "Invalid description '%.64s': angle brackets and line breaks are not allowed.", v);
    return IMS_OK;
}

static bool has_upper(const char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            return true;
    return false;
}

/* The value as the string the image stores (IMS values are strings;
 * booleans and integers are taken as their text). NULL if not scalar. */
static json_t *string_value(const json_t *v)
{
    if (json_is_string(v))
        return json_incref((json_t *)v);
    if (json_is_boolean(v))
        return json_string(json_is_true(v) ? "true" : "false");
    if (json_is_integer(v)) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        return json_string(buf);
    }
    return NULL;
}

/* min_ram: an integer, or a string of digits. */
static json_t *int_value(const json_t *v)
{
    int64_t n;
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 2147483647)
        return json_integer(json_integer_value(v));
    if (json_is_string(v) && ims_parse_i64(json_string_value(v), 0, 2147483647, &n))
        return json_integer(n);
    return NULL;
}

static enum ims_rc parse_one(const json_t *o, struct ims_patch *ret, char **ret_ep, struct ims_err *err)
{
    if (!json_is_object(o))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Each change must be an object with op, path and value.");
    const char *op = json_string_value(json_object_get(o, "op"));
    const char *path = json_string_value(json_object_get(o, "path"));
    json_t *value = json_object_get(o, "value");
    enum ims_patch_opcode code;
    if (op && !strcmp(op, "add"))
        code = IMS_PATCH_ADD;
    else if (op && !strcmp(op, "replace"))
        code = IMS_PATCH_REPLACE;
    else if (op && !strcmp(op, "remove"))
        code = IMS_PATCH_REMOVE;
    else
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Invalid op '%s': it must be add, replace or remove.",
                             op ? op : "(missing)");
    if (!path || path[0] != '/' || !path[1] || strchr(path + 1, '/'))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Invalid path '%s': it must be /<attribute>.",
                             path ? path : "(missing)");
    const char *attr = path + 1;
    if (code != IMS_PATCH_REMOVE && !value)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "The %s of %s needs a value.", op, path);
    bool doc = is_documented(attr);
    if (!doc) {
        /* Extension attributes may be added or removed; core attributes and
         * the system's own "__" attributes may not change here. */
        if (ims_image_attr_kind(attr) != IMS_ATTR_PROPERTY || strncmp(attr, "__", 2) == 0 ||
            !strcmp(attr, "max_ram"))
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Attribute '%s' cannot be updated.", attr);
        if (has_upper(attr))
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001",
                                 "Invalid attribute name '%s': extension attribute names cannot contain uppercase "
                                 "letters.",
                                 attr);
        if (ims_utf8_chars(attr) > IMS_IMAGE_PROP_KEY_MAX)
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Attribute name '%.64s...' is too long.", attr);
    }
    if (!strcmp(attr, "enterprise_project_id")) {
        const char *ep = json_string_value(value);
        if (code == IMS_PATCH_REMOVE || !ep || (strcmp(ep, "0") && !ims_uuid_valid(ep)))
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0155",
                                 "Invalid enterprise_project_id: it must be \"0\" or an enterprise project UUID.");
        free(*ret_ep);
        *ret_ep = ims_xstrdup(ep);
        return IMS_OK;
    }
    bool core = !strcmp(attr, "name") || !strcmp(attr, "min_ram");
    if (code == IMS_PATCH_REMOVE && core)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Attribute '%s' cannot be removed.", attr);
    json_t *v = NULL;
    if (code != IMS_PATCH_REMOVE) {
        v = !strcmp(attr, "min_ram") ? int_value(value) : string_value(value);
        if (!v)
            return !strcmp(attr, "min_ram")
                       ? ims_fail_code(err, IMS_E_BADREQ, "IMG.0055", "Invalid min_ram: it must be an integer (MB).")
                       : ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Invalid value for '%s': it must be a string.",
                                       attr);
        const char *s = json_string_value(v);
        enum ims_rc rc = IMS_OK;
        if (!strcmp(attr, "name"))
            rc = ims_image_name_check(s, IMS_NAMES_IMS, err);
        else if (!strcmp(attr, "__description"))
            rc = ims_cloudimage_check_description(s, err);
        else if (!strcmp(attr, "hw_firmware_type") && strcmp(s, "bios") && strcmp(s, "uefi"))
            rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0141", "The value of hw_firmware_type is not uefi or bios.");
        else if (!strcmp(attr, "max_ram") && !ims_parse_i64(s, 0, INT64_MAX, &(int64_t){0}))
            rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0055", "Invalid max_ram: it must be an integer (MB).");
        else if (s && strlen(s) > IMS_IMAGE_PROP_VALUE_MAX)
            rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Value of '%s' is too long.", attr);
        if (rc != IMS_OK) {
            json_decref(v);
            return rc;
        }
        /* Properties are set whether or not they exist yet. */
        if (!core)
            code = IMS_PATCH_ADD;
    }
    ret->ops[ret->n++] = (struct ims_patch_op){.op = code, .path = ims_xstrdup(attr), .value = v};
    return IMS_OK;
}

enum ims_rc ims_cloudimage_patch_parse(const char *body, size_t len, struct ims_patch *ret, char **ret_ep,
                                       struct ims_err *err)
{
    if (len == 0)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0007", "The request body is empty.");
    json_error_t je;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Malformed JSON in request body: %s.", je.text);
    enum ims_rc rc = IMS_OK;
    struct ims_patch p = {0};
    char *ep = NULL;
    if (!json_is_array(doc))
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "The request body must be a list of changes.");
    else if (json_array_size(doc) == 0)
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0007", "The request body has no changes.");
    else if (json_array_size(doc) > IMS_PATCH_OPS_MAX)
        rc = ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "At most %d changes per request.", IMS_PATCH_OPS_MAX);
    if (rc == IMS_OK) {
        p.ops = ims_xcalloc(json_array_size(doc), sizeof(*p.ops));
        size_t i;
        json_t *o;
        json_array_foreach(doc, i, o)
        {
            rc = parse_one(o, &p, &ep, err);
            if (rc != IMS_OK)
                break;
        }
    }
    json_decref(doc);
    if (rc != IMS_OK) {
        ims_patch_release(&p);
        free(ep);
        return rc;
    }
    *ret = p;
    *ret_ep = ep;
    return IMS_OK;
}
