/* SPDX-License-Identifier: Apache-2.0
 * Applies parsed image PATCH operations to an ims_image with Glance v2's
 * rules. Like Glance, it first checks every operation on its own (read-only
 * and reserved names, value types: the deserializer's _validate_change) and
 * only then applies them in order against the image (the controller's
 * _do_add/_do_replace/_do_remove), so a request with a forbidden or
 * ill-typed operation anywhere fails before anything changes.
 *
 *   attribute kind   add                     replace                remove
 *   read-only        403 read-only           403 read-only          403 read-only
 *   reserved         403 reserved            403 reserved           403 reserved
 *   core mutable     = replace (v2.0: 409)   set                    403 may not be removed
 *   owner            admin only, else 403    admin only, else 403   403 may not be removed
 *   property         set (v2.0: 409 if set)  409 if missing         409 if missing
 *
 * Bad values are 400; a new property past IMS_IMAGE_PROPS_MAX or more than
 * IMS_IMAGE_TAGS_MAX tags is 413 (Glance's property and tag quotas). */
#include "ims/patch.h"

#include <stdio.h>
#include <string.h>

#define INT32_COLUMN_MAX 2147483647 /* Glance refuses min_disk/min_ram past a MySQL INT */

/* Shows a JSON value in an error message, shortened. */
static const char *describe(const json_t *v, char *out, size_t outlen)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(out, outlen, "%s", s ? s : "?");
    if (s && strlen(s) >= outlen && outlen > 4)
        memcpy(out + outlen - 4, "...", 4);
    free(s);
    return out;
}

static enum ims_rc bad_value(const char *attr, const json_t *v, const char *why, struct ims_err *err)
{
    char shown[96];
    return ims_fail(err, IMS_E_BADREQ, "Invalid value %s for attribute '%s': %s", describe(v, shown, sizeof(shown)),
                    attr, why);
}

/* ---- value checks (the image schema, one attribute at a time) ---- */

static enum ims_rc check_string_or_null(const char *attr, const json_t *v, size_t max_chars, struct ims_err *err)
{
    if (json_is_null(v))
        return IMS_OK;
    if (!json_is_string(v))
        return bad_value(attr, v, "it must be a string or null", err);
    if (ims_utf8_chars(json_string_value(v)) > max_chars)
        return ims_fail(err, IMS_E_BADREQ, "Invalid value for attribute '%s': longer than %zu characters", attr,
                        max_chars);
    return IMS_OK;
}

static enum ims_rc check_format(const char *attr, const json_t *v, bool (*valid)(const char *), struct ims_err *err)
{
    if (json_is_null(v))
        return IMS_OK;
    if (!json_is_string(v))
        return bad_value(attr, v, "it must be a string or null", err);
    if (!valid(json_string_value(v)))
        return bad_value(attr, v, "not a supported format", err);
    return IMS_OK;
}

static enum ims_rc check_tags(const json_t *v, struct ims_err *err)
{
    if (!json_is_array(v))
        return bad_value("tags", v, "it must be an array of strings", err);
    size_t i;
    json_t *tag;
    json_array_foreach(v, i, tag) {
        if (!json_is_string(tag))
            return bad_value("tags", tag, "each tag must be a string", err);
        if (ims_utf8_chars(json_string_value(tag)) > IMS_IMAGE_TAG_MAX)
            return ims_fail(err, IMS_E_BADREQ, "Invalid tag: longer than %d characters", IMS_IMAGE_TAG_MAX);
        if (!ims_text_valid(json_string_value(tag)))
            return bad_value("tags", tag, "control characters are not allowed in a tag", err);
    }
    return IMS_OK;
}

static enum ims_rc check_core_value(const char *attr, const json_t *v, struct ims_err *err)
{
    if (strcmp(attr, "name") == 0) {
        if (json_is_string(v))
            return ims_image_name_check(json_string_value(v), IMS_NAMES_GLANCE, err);
        return check_string_or_null(attr, v, IMS_IMAGE_NAME_MAX, err);
    }
    if (strcmp(attr, "owner") == 0) {
        /* Glance's schema allows null, but an ownerless image would escape
         * every project-scoped check, so an owner must stay a string. */
        if (!json_is_string(v))
            return bad_value(attr, v, "it must be a string", err);
        return check_string_or_null(attr, v, 255, err);
    }
    if (strcmp(attr, "visibility") == 0) {
        if (!json_is_string(v) || !ims_image_visibility_valid(json_string_value(v)))
            return bad_value(attr, v, "it must be one of community, public, private, shared", err);
        return IMS_OK;
    }
    if (strcmp(attr, "protected") == 0 || strcmp(attr, "os_hidden") == 0) {
        if (!json_is_boolean(v))
            return bad_value(attr, v, "it must be a boolean", err);
        return IMS_OK;
    }
    if (strcmp(attr, "min_disk") == 0 || strcmp(attr, "min_ram") == 0) {
        /* JSON Schema draft 4: 1.0 is a number, not an integer. */
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_COLUMN_MAX)
            return bad_value(attr, v, "it must be an integer between 0 and 2147483647", err);
        return IMS_OK;
    }
    if (strcmp(attr, "container_format") == 0)
        return check_format(attr, v, ims_container_format_valid, err);
    if (strcmp(attr, "disk_format") == 0)
        return check_format(attr, v, ims_disk_format_valid, err);
    if (strcmp(attr, "tags") == 0)
        return check_tags(v, err);
    return ims_fail(err, IMS_E_INTERNAL, "no value check for core attribute '%s'", attr);
}

static enum ims_rc check_property(const char *key, const json_t *v, struct ims_err *err)
{
    if (!ims_text_valid(key))
        return ims_fail(err, IMS_E_BADREQ, "Custom property names must not contain control characters.");
    if (ims_utf8_chars(key) > IMS_IMAGE_PROP_KEY_MAX)
        return ims_fail(err, IMS_E_BADREQ, "Custom property should not be greater than %d characters.",
                        IMS_IMAGE_PROP_KEY_MAX);
    /* Glance's schema types every additional property as a string. */
    if (!json_is_string(v))
        return bad_value(key, v, "image properties must be strings", err);
    if (strlen(json_string_value(v)) > IMS_IMAGE_PROP_VALUE_MAX)
        return ims_fail(err, IMS_E_BADREQ, "Value of property '%s' is longer than %d bytes", key,
                        IMS_IMAGE_PROP_VALUE_MAX);
    return IMS_OK;
}

static enum ims_rc check_op(const struct ims_patch_op *op, bool is_admin, struct ims_err *err)
{
    /* The parser never yields one, but creation feeds body keys in as paths. */
    if (!*op->path)
        return ims_fail(err, IMS_E_BADREQ, "Attribute names must not be empty.");
    switch (ims_image_attr_kind(op->path)) {
    case IMS_ATTR_READONLY:
        return ims_fail(err, IMS_E_FORBIDDEN, "Attribute '%s' is read-only.", op->path);
    case IMS_ATTR_RESERVED:
        return ims_fail(err, IMS_E_FORBIDDEN, "Attribute '%s' is reserved.", op->path);
    case IMS_ATTR_SYSTEM:
        if (!is_admin)
            return ims_fail(err, IMS_E_FORBIDDEN, "Attribute '%s' is read-only.", op->path);
        return op->op == IMS_PATCH_REMOVE ? IMS_OK : check_property(op->path, op->value, err);
    case IMS_ATTR_MUTABLE:
        return op->op == IMS_PATCH_REMOVE ? IMS_OK : check_core_value(op->path, op->value, err);
    case IMS_ATTR_PROPERTY:
        return op->op == IMS_PATCH_REMOVE ? IMS_OK : check_property(op->path, op->value, err);
    }
    return ims_fail(err, IMS_E_INTERNAL, "unknown attribute kind");
}

/* ---- application ---- */

static const char *string_or_null(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static enum ims_rc set_tags(struct ims_image *img, const json_t *v, struct ims_err *err)
{
    /* Glance keeps tags as a set: repeats collapse, first position wins. */
    struct ims_strlist tags = {0};
    size_t i;
    json_t *tag;
    json_array_foreach(v, i, tag) {
        if (!ims_strlist_contains(&tags, json_string_value(tag)))
            ims_strlist_add(&tags, json_string_value(tag));
    }
    if (tags.n > IMS_IMAGE_TAGS_MAX) {
        size_t n = tags.n;
        ims_strlist_release(&tags);
        return ims_fail(err, IMS_E_TOOLARGE, "Maximum number of tags exceeded: %zu given, at most %d", n,
                        IMS_IMAGE_TAGS_MAX);
    }
    ims_strlist_release(&img->tags);
    img->tags = tags;
    return IMS_OK;
}

static enum ims_rc set_core(struct ims_image *img, const char *attr, const json_t *v, struct ims_err *err)
{
    if (strcmp(attr, "name") == 0)
        ims_set_str(&img->name, string_or_null(v));
    else if (strcmp(attr, "owner") == 0)
        ims_set_str(&img->owner, string_or_null(v));
    else if (strcmp(attr, "visibility") == 0)
        snprintf(img->visibility, sizeof(img->visibility), "%s", json_string_value(v));
    else if (strcmp(attr, "protected") == 0)
        img->protected_ = json_is_true(v);
    else if (strcmp(attr, "os_hidden") == 0)
        img->os_hidden = json_is_true(v);
    else if (strcmp(attr, "min_disk") == 0)
        img->min_disk = json_integer_value(v);
    else if (strcmp(attr, "min_ram") == 0)
        img->min_ram = json_integer_value(v);
    else if (strcmp(attr, "container_format") == 0)
        ims_set_str(&img->container_format, string_or_null(v));
    else if (strcmp(attr, "disk_format") == 0)
        ims_set_str(&img->disk_format, string_or_null(v));
    else if (strcmp(attr, "tags") == 0)
        return set_tags(img, v, err);
    else
        return ims_fail(err, IMS_E_INTERNAL, "no setter for core attribute '%s'", attr);
    return IMS_OK;
}

static enum ims_rc apply_core(const struct ims_patch_op *op, struct ims_image *img, bool is_admin,
                              bool add_must_be_new, struct ims_err *err)
{
    if (op->op == IMS_PATCH_REMOVE)
        return ims_fail(err, IMS_E_FORBIDDEN, "Property %s may not be removed.", op->path);
    if (strcmp(op->path, "owner") == 0 && !is_admin)
        return ims_fail(err, IMS_E_FORBIDDEN, "Owner can't be updated by non admin.");
    /* Core attributes always exist, so a draft-4 "add" always collides. */
    if (op->op == IMS_PATCH_ADD && add_must_be_new)
        return ims_fail(err, IMS_E_CONFLICT, "Property %s already present.", op->path);
    return set_core(img, op->path, op->value, err);
}

static enum ims_rc apply_property(const struct ims_patch_op *op, struct ims_image *img, bool add_must_be_new,
                                  struct ims_err *err)
{
    bool present = ims_kvlist_get(&img->props, op->path) != NULL;
    /* a documented attribute the image shows by default is there to
     * replace or remove (removing it shows its default again) */
    bool shown = present || ims_image_shown_default(op->path);
    switch (op->op) {
    case IMS_PATCH_REMOVE:
        if (!shown)
            return ims_fail(err, IMS_E_CONFLICT, "Property %s does not exist.", op->path);
        ims_kvlist_remove(&img->props, op->path);
        return IMS_OK;
    case IMS_PATCH_REPLACE:
        if (!shown)
            return ims_fail(err, IMS_E_CONFLICT, "Property %s does not exist.", op->path);
        break;
    case IMS_PATCH_ADD:
        if (present && add_must_be_new)
            return ims_fail(err, IMS_E_CONFLICT, "Property %s already present.", op->path);
        if (!present && img->props.n >= IMS_IMAGE_PROPS_MAX)
            return ims_fail(err, IMS_E_TOOLARGE,
                            "Maximum number of image properties exceeded: adding '%s' would pass %d", op->path,
                            IMS_IMAGE_PROPS_MAX);
        break;
    }
    ims_kvlist_set(&img->props, op->path, json_string_value(op->value));
    return IMS_OK;
}

enum ims_rc ims_patch_apply(const struct ims_patch *p, struct ims_image *img, bool is_admin, struct ims_err *err)
{
    for (size_t i = 0; i < p->n; i++) {
        enum ims_rc rc = check_op(&p->ops[i], is_admin, err);
        if (rc != IMS_OK)
            return rc;
    }
    for (size_t i = 0; i < p->n; i++) {
        const struct ims_patch_op *op = &p->ops[i];
        enum ims_rc rc = ims_image_attr_kind(op->path) == IMS_ATTR_MUTABLE
                             ? apply_core(op, img, is_admin, p->add_must_be_new, err)
                             : apply_property(op, img, p->add_must_be_new, err);
        if (rc != IMS_OK)
            return rc;
    }
    return IMS_OK;
}
