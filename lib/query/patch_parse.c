/* SPDX-License-Identifier: Apache-2.0
 * Parsing of PATCH /v2/images/{id} bodies in Glance's two media types:
 * v2.1 is RFC 6902 ({"op": "add", "path": "/x", "value": ...}), v2.0 the
 * older draft-4 form ({"add": "/x", "value": ...}). Syntax only, the way
 * Glance's RequestDeserializer.update checks it: operation names, JSON
 * pointer shape and escapes, path depth, presence of "value". What the
 * operations may touch is decided by ims_patch_apply (patch.c). */
#include "ims/patch.h"

#include <string.h>
#include <strings.h>

#define SUPPORTED_OPS "add, remove, replace"

void ims_patch_release(struct ims_patch *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->ops[i].path);
        free(p->ops[i].index);
        json_decref(p->ops[i].value);
    }
    free(p->ops);
    *p = (struct ims_patch){0};
}

static void patchp(struct ims_patch *p) { ims_patch_release(p); }

/* Media types compare case-insensitively and parameters (";charset=...")
 * are ignored, as webob's request.content_type does. */
static bool media_type_is(const char *media_type, const char *want)
{
    size_t n = strcspn(media_type, ";");
    while (n && (media_type[n - 1] == ' ' || media_type[n - 1] == '\t'))
        n--;
    while (n && (*media_type == ' ' || *media_type == '\t')) {
        media_type++;
        n--;
    }
    return n == strlen(want) && strncasecmp(media_type, want, n) == 0;
}

static bool parse_opcode(const char *s, enum ims_patch_opcode *ret)
{
    static const struct {
        const char *name;
        enum ims_patch_opcode op;
    } ops[] = {{"add", IMS_PATCH_ADD}, {"remove", IMS_PATCH_REMOVE}, {"replace", IMS_PATCH_REPLACE}};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(ops); i++) {
        if (strcmp(s, ops[i].name) == 0) {
            *ret = ops[i].op;
            return true;
        }
    }
    return false;
}

static const char *opcode_name(enum ims_patch_opcode op)
{
    switch (op) {
    case IMS_PATCH_ADD: return "add";
    case IMS_PATCH_REMOVE: return "remove";
    case IMS_PATCH_REPLACE: return "replace";
    }
    return "?";
}

static enum ims_rc opcode_v21(json_t *change, enum ims_patch_opcode *ret, const char **ret_path_member,
                              struct ims_err *err)
{
    json_t *op = json_object_get(change, "op");
    if (!op || json_is_null(op))
        return ims_fail(err, IMS_E_BADREQ,
                        "Unable to find `op` in JSON Schema change. "
                        "It must be one of the following: " SUPPORTED_OPS ".");
    if (!json_is_string(op) || !parse_opcode(json_string_value(op), ret))
        return ims_fail(err, IMS_E_BADREQ,
                        "Invalid operation: `%.64s`. It must be one of the following: " SUPPORTED_OPS ".",
                        json_is_string(op) ? json_string_value(op) : "(not a string)");
    *ret_path_member = "path";
    return IMS_OK;
}

static enum ims_rc opcode_v20(json_t *change, enum ims_patch_opcode *ret, const char **ret_path_member,
                              struct ims_err *err)
{
    static const char *const names[] = {"add", "remove", "replace"};
    const char *found = NULL;
    for (size_t i = 0; i < IMS_ARRAY_SIZE(names); i++) {
        if (!json_object_get(change, names[i]))
            continue;
        if (found)
            return ims_fail(err, IMS_E_BADREQ,
                            "Operation objects must contain only one member named "
                            "\"add\", \"remove\", or \"replace\".");
        found = names[i];
    }
    if (!found)
        return ims_fail(err, IMS_E_BADREQ,
                        "Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\".");
    parse_opcode(found, ret);
    *ret_path_member = found;
    return IMS_OK;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Glance's _validate_json_pointer, check for check. */
static enum ims_rc validate_pointer(const char *ptr, struct ims_err *err)
{
    size_t n = strlen(ptr);
    if (ptr[0] != '/')
        return ims_fail(err, IMS_E_BADREQ, "Pointer `%.256s` does not start with \"/\".", ptr);
    /* Two slashes with only blanks between them, after the leading one. */
    for (size_t i = 1; i < n; i++) {
        if (ptr[i] != '/')
            continue;
        size_t j = i + 1;
        while (j < n && is_space(ptr[j]))
            j++;
        if (j < n && ptr[j] == '/')
            return ims_fail(err, IMS_E_BADREQ, "Pointer `%.256s` contains adjacent \"/\".", ptr);
    }
    if (n > 1 && ptr[n - 1] == '/')
        return ims_fail(err, IMS_E_BADREQ, "Pointer `%.256s` end with \"/\".", ptr);
    for (size_t i = 0; i < n; i++)
        if (ptr[i] == '~' && ptr[i + 1] != '0' && ptr[i + 1] != '1')
            return ims_fail(err, IMS_E_BADREQ,
                            "Pointer `%.256s` contains \"~\" not part of a recognized escape sequence.", ptr);
    return IMS_OK;
}

/* One reference token: "~1" -> "/" first, then "~0" -> "~" (so "~01" is
 * "~1"), then surrounding blanks dropped, as Glance does. */
static char *decode_token(const char *s, size_t n)
{
    char *out = ims_xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '~' && i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1')) {
            out[o++] = s[i + 1] == '1' ? '/' : '~';
            i++;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = 0;
    size_t start = 0;
    while (is_space(out[start]))
        start++;
    while (o > start && is_space(out[o - 1]))
        o--;
    memmove(out, out + start, o - start);
    out[o - start] = 0;
    return out;
}

/* Splits and decodes the pointer; only the first token is kept, the depth
 * is returned so the caller can check it. */
static char *decode_pointer(const char *ptr, size_t *ret_depth)
{
    while (*ptr == '/') /* Glance lstrip('/')s, so "//x" is "/x" */
        ptr++;
    size_t first = strcspn(ptr, "/");
    size_t depth = 1;
    for (const char *p = ptr; *p; p++)
        depth += *p == '/';
    *ret_depth = depth;
    return decode_token(ptr, first);
}

static size_t allowed_depth(const char *root, enum ims_patch_opcode op)
{
    /* Glance's _path_depth_limits: "/locations/N" for add and remove. */
    if (strcmp(root, "locations") == 0 && op != IMS_PATCH_REPLACE)
        return 2;
    return 1;
}

static enum ims_rc parse_change(json_t *change, bool v20, struct ims_patch_op *ret, struct ims_err *err)
{
    if (!json_is_object(change))
        return ims_fail(err, IMS_E_BADREQ, "Operations must be JSON objects.");

    enum ims_patch_opcode op = IMS_PATCH_ADD;
    const char *path_member;
    enum ims_rc rc = v20 ? opcode_v20(change, &op, &path_member, err) : opcode_v21(change, &op, &path_member, err);
    if (rc != IMS_OK)
        return rc;

    json_t *path = json_object_get(change, path_member);
    if (!path)
        return ims_fail(err, IMS_E_BADREQ, "Unable to find 'path' in JSON Schema change");
    if (!json_is_string(path))
        return ims_fail(err, IMS_E_BADREQ, "The path of a \"%s\" operation must be a JSON pointer string",
                        opcode_name(op));
    const char *ptr = json_string_value(path);
    rc = validate_pointer(ptr, err);
    if (rc != IMS_OK)
        return rc;

    size_t depth;
    _cleanup_free_ char *root = decode_pointer(ptr, &depth);
    if (!*root || depth != allowed_depth(root, op))
        return ims_fail(err, IMS_E_BADREQ, "Invalid JSON pointer for this resource: '%.256s'", ptr);

    char *index = NULL; /* "/locations/N": the position, decoded as the root is */
    if (depth == 2) {
        const char *second = ptr;
        while (*second == '/')
            second++;
        second += strcspn(second, "/") + 1;
        index = decode_token(second, strlen(second));
    }
    json_t *value = NULL;
    if (op != IMS_PATCH_REMOVE) {
        value = json_object_get(change, "value");
        if (!value) {
            free(index);
            return ims_fail(err, IMS_E_BADREQ, "Operation \"%s\" requires a member named \"value\".", opcode_name(op));
        }
        json_incref(value);
    }
    *ret = (struct ims_patch_op){.op = op, .path = IMS_TAKE_PTR(root), .index = index, .value = value};
    return IMS_OK;
}

enum ims_rc ims_patch_parse(const char *media_type, const char *body, size_t len, struct ims_patch *ret,
                            struct ims_err *err)
{
    bool v20;
    if (media_type && media_type_is(media_type, IMS_PATCH_MEDIA_V21))
        v20 = false;
    else if (media_type && media_type_is(media_type, IMS_PATCH_MEDIA_V20))
        v20 = true;
    else
        return ims_fail(err, IMS_E_MEDIA, "Unsupported media type %.128s; use %s or %s",
                        media_type ? media_type : "(none)", IMS_PATCH_MEDIA_V20, IMS_PATCH_MEDIA_V21);

    if (!body || len == 0)
        return ims_fail(err, IMS_E_BADREQ, "Body expected in request.");
    json_error_t jerr;
    _cleanup_(json_decrefp) json_t *doc = json_loadb(body, len, 0, &jerr);
    if (!doc)
        return ims_fail(err, IMS_E_BADREQ, "Malformed JSON in request body: %s (line %d, column %d)", jerr.text,
                        jerr.line, jerr.column);
    if (!json_is_array(doc))
        return ims_fail(err, IMS_E_BADREQ, "Request body must be a JSON array of operation objects.");

    _cleanup_(patchp) struct ims_patch patch = {.add_must_be_new = v20};
    size_t n = json_array_size(doc);
    patch.ops = ims_xcalloc(n ? n : 1, sizeof(*patch.ops));
    for (size_t i = 0; i < n; i++) {
        enum ims_rc rc = parse_change(json_array_get(doc, i), v20, &patch.ops[i], err);
        if (rc != IMS_OK)
            return rc;
        patch.n++;
    }
    *ret = patch;
    patch = (struct ims_patch){0};
    return IMS_OK;
}
