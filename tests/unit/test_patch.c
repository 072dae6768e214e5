/* SPDX-License-Identifier: Apache-2.0
 * Unit tests of image JSON patch (lib/query/patch*.c) in both Glance media
 * types, and of the image record helpers it relies on (lib/core/image.c):
 * defaults, deep copy, vocabularies and the attribute classification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ims/patch.h"

#define V21 IMS_PATCH_MEDIA_V21
#define V20 IMS_PATCH_MEDIA_V20

/* ---- helpers ---- */

static enum ims_rc parse(const char *media, const char *body, struct ims_patch *p, struct ims_err *err)
{
    return ims_patch_parse(media, body, body ? strlen(body) : 0, p, err);
}

static void expect_parse_fail(const char *media, const char *body, enum ims_rc want, const char *fragment)
{
    struct ims_patch p = {0};
    struct ims_err err = {0};
    enum ims_rc rc = parse(media, body, &p, &err);
    if (rc != want)
        fail_msg("%s: expected %s, got %s (%s)", body, ims_rc_name(want), ims_rc_name(rc), err.msg);
    if (!strstr(err.msg, fragment))
        fail_msg("%s: message '%s' lacks '%s'", body, err.msg, fragment);
    assert_int_equal(p.n, 0);
    assert_null(p.ops);
}

/* Parses and applies body to img; returns the first failure. */
static enum ims_rc run(const char *media, const char *body, struct ims_image *img, bool is_admin,
                       struct ims_err *err)
{
    struct ims_patch p = {0};
    enum ims_rc rc = parse(media, body, &p, err);
    if (rc == IMS_OK)
        rc = ims_patch_apply(&p, img, is_admin, err);
    ims_patch_release(&p);
    return rc;
}

static void apply_ok(const char *media, const char *body, struct ims_image *img, bool is_admin)
{
    struct ims_err err = {0};
    enum ims_rc rc = run(media, body, img, is_admin, &err);
    if (rc != IMS_OK)
        fail_msg("%s: %s (%s)", body, ims_rc_name(rc), err.msg);
}

/* Applies body to a fresh image and checks the failure code and message. */
static void expect_apply_fail(const char *media, const char *body, bool is_admin, enum ims_rc want,
                              const char *fragment)
{
    struct ims_image img;
    ims_image_init(&img);
    ims_kvlist_add(&img.props, "existing", "v");
    struct ims_err err = {0};
    enum ims_rc rc = run(media, body, &img, is_admin, &err);
    if (rc != want)
        fail_msg("%s: expected %s, got %s (%s)", body, ims_rc_name(want), ims_rc_name(rc), err.msg);
    if (!strstr(err.msg, fragment))
        fail_msg("%s: message '%s' lacks '%s'", body, err.msg, fragment);
    ims_image_release(&img);
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = 0;
    return s;
}

/* ---- image record ---- */

static void test_image_init_defaults(void **state)
{
    struct ims_image img;
    memset(&img, 0xA5, sizeof(img));
    ims_image_init(&img);
    assert_string_equal(img.status, "queued");
    assert_string_equal(img.visibility, "shared");
    assert_int_equal(img.size, -1);
    assert_int_equal(img.virtual_size, -1);
    assert_string_equal(img.enterprise_project_id, "0");
    assert_int_equal(img.min_disk, 0);
    assert_int_equal(img.min_ram, 0);
    assert_false(img.protected_);
    assert_false(img.os_hidden);
    assert_null(img.name);
    assert_null(img.owner);
    assert_null(img.disk_format);
    assert_null(img.container_format);
    assert_null(img.checksum);
    assert_int_equal(img.props.n, 0);
    assert_int_equal(img.tags.n, 0);
    assert_string_equal(img.id, "");
    ims_image_release(&img);
    ims_image_release(&img); /* released twice is harmless */
}

static void test_image_copy_is_deep(void **state)
{
    struct ims_image a, b;
    ims_image_init(&a);
    ims_set_str(&a.name, "cirros");
    ims_set_str(&a.owner, "p1");
    ims_set_str(&a.disk_format, "qcow2");
    ims_set_str(&a.checksum, "abc");
    ims_set_str(&a.blob, "file:///x");
    a.size = 42;
    a.min_ram = 512;
    strcpy(a.id, "11111111-2222-4333-8444-555555555555");
    ims_kvlist_add(&a.props, "k", "v");
    ims_strlist_add(&a.tags, "t");

    ims_image_copy(&b, &a);
    ims_set_str(&b.name, "other");
    ims_kvlist_set(&b.props, "k", "changed");
    ims_strlist_add(&b.tags, "t2");
    strcpy(b.visibility, "public");

    assert_string_equal(a.name, "cirros");
    assert_string_equal(ims_kvlist_get(&a.props, "k"), "v");
    assert_int_equal(a.tags.n, 1);
    assert_string_equal(a.visibility, "shared");
    assert_ptr_not_equal(a.owner, b.owner);
    assert_string_equal(b.owner, "p1");
    assert_string_equal(b.disk_format, "qcow2");
    assert_string_equal(b.checksum, "abc");
    assert_string_equal(b.blob, "file:///x");
    assert_null(b.container_format);
    assert_int_equal(b.size, 42);
    assert_int_equal(b.min_ram, 512);
    assert_string_equal(b.id, a.id);
    ims_image_release(&a);
    ims_image_release(&b);
}

static void test_set_str(void **state)
{
    char *s = NULL;
    ims_set_str(&s, "a");
    assert_string_equal(s, "a");
    ims_set_str(&s, s); /* aliasing the old value is fine */
    assert_string_equal(s, "a");
    ims_set_str(&s, s + 1);
    assert_string_equal(s, "");
    ims_set_str(&s, NULL);
    assert_null(s);
}

static void test_vocabularies(void **state)
{
    const char *disk[] = {"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop",
                          "zvhd2", "zvhd"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(disk); i++)
        assert_true(ims_disk_format_valid(disk[i]));
    const char *container[] = {"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(container); i++)
        assert_true(ims_container_format_valid(container[i]));
    const char *statuses[] = {"queued", "saving", "active", "killed", "deleted", "pending_delete",
                              "deactivated", "uploading", "importing"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(statuses); i++)
        assert_true(ims_image_status_valid(statuses[i]));
    const char *vis[] = {"public", "private", "shared", "community"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(vis); i++)
        assert_true(ims_image_visibility_valid(vis[i]));

    const char *bad[] = {"", "QCOW2", "qcow", "bare ", "exe", "all"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(bad); i++) {
        assert_false(ims_disk_format_valid(bad[i]));
        assert_false(ims_container_format_valid(bad[i]));
        assert_false(ims_image_status_valid(bad[i]));
        assert_false(ims_image_visibility_valid(bad[i]));
    }
    assert_false(ims_disk_format_valid("bare"));
    assert_false(ims_container_format_valid("qcow2"));
    assert_false(ims_disk_format_valid(NULL));
    assert_false(ims_container_format_valid(NULL));
    assert_false(ims_image_status_valid(NULL));
    assert_false(ims_image_visibility_valid(NULL));
}

static void test_attr_kinds(void **state)
{
    const char *mutable_attrs[] = {"name", "visibility", "protected", "os_hidden", "container_format",
                                   "disk_format", "min_disk", "min_ram", "tags", "owner"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(mutable_attrs); i++)
        assert_int_equal(ims_image_attr_kind(mutable_attrs[i]), IMS_ATTR_MUTABLE);
    const char *readonly_attrs[] = {"id", "status", "checksum", "os_hash_algo", "os_hash_value", "size",
                                    "virtual_size", "created_at", "updated_at", "file", "self", "schema",
                                    "direct_url", "stores"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(readonly_attrs); i++)
        assert_int_equal(ims_image_attr_kind(readonly_attrs[i]), IMS_ATTR_READONLY);
    const char *reserved_attrs[] = {"location", "locations", "deleted", "deleted_at", "os_glance",
                                    "os_glance_import_task"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(reserved_attrs); i++)
        assert_int_equal(ims_image_attr_kind(reserved_attrs[i]), IMS_ATTR_RESERVED);
    const char *system_attrs[] = {"__imagetype", "__isregistered", "__image_size", "__data_origin",
                                  "__backup_id", "__whole_image", "__originalimagename", "__image_source_type"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(system_attrs); i++)
        assert_int_equal(ims_image_attr_kind(system_attrs[i]), IMS_ATTR_SYSTEM);
    const char *props[] = {"hw_disk_bus", "__platform", "__os_version", "__support_kvm", "__is_config_init",
                           "__imagetype_x", "Name", "os_distro", "", "enterprise"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(props); i++)
        assert_int_equal(ims_image_attr_kind(props[i]), IMS_ATTR_PROPERTY);
}

/* System attributes: read-only for tenants whatever the op, set by admins. */
static void test_system_attrs(void **state)
{
    (void)state;
    expect_apply_fail(V21, "[{\"op\":\"add\",\"path\":\"/__imagetype\",\"value\":\"gold\"}]", false,
                      IMS_E_FORBIDDEN, "Attribute '__imagetype' is read-only.");
    expect_apply_fail(V21, "[{\"op\":\"remove\",\"path\":\"/__isregistered\"}]", false, IMS_E_FORBIDDEN,
                      "Attribute '__isregistered' is read-only.");
    expect_apply_fail(V21, "[{\"op\":\"add\",\"path\":\"/__image_size\",\"value\":7}]", true, IMS_E_BADREQ,
                      "must be strings");
    struct ims_image img;
    ims_image_init(&img);
    apply_ok(V21, "[{\"op\":\"add\",\"path\":\"/__isregistered\",\"value\":\"false\"}]", &img, true);
    assert_string_equal(ims_kvlist_get(&img.props, "__isregistered"), "false");
    apply_ok(V21, "[{\"op\":\"remove\",\"path\":\"/__isregistered\"}]", &img, true);
    assert_null(ims_kvlist_get(&img.props, "__isregistered"));
    ims_image_release(&img);
}

/* ---- parsing: media types and envelope ---- */

static void test_parse_media_types(void **state)
{
    struct {
        const char *media;
        bool v20;
    } ok[] = {
        {V21, false},
        {V20, true},
        {"application/openstack-images-v2.1-json-patch; charset=UTF-8", false},
        {"Application/OpenStack-Images-V2.0-JSON-Patch", true},
        {" " V21 " ", false},
    };
    for (size_t i = 0; i < IMS_ARRAY_SIZE(ok); i++) {
        struct ims_patch p = {0};
        struct ims_err err = {0};
        assert_int_equal(parse(ok[i].media, "[]", &p, &err), IMS_OK);
        assert_int_equal(p.n, 0);
        assert_int_equal(p.add_must_be_new, ok[i].v20);
        ims_patch_release(&p);
    }
    expect_parse_fail("application/json", "[]", IMS_E_MEDIA, "Unsupported media type application/json");
    expect_parse_fail("application/json-patch+json", "[]", IMS_E_MEDIA, "Unsupported media type");
    expect_parse_fail(V21 "x", "[]", IMS_E_MEDIA, "Unsupported media type");
    expect_parse_fail("", "[]", IMS_E_MEDIA, "Unsupported media type");
    expect_parse_fail(NULL, "[]", IMS_E_MEDIA, "Unsupported media type");
}

static void test_parse_envelope(void **state)
{
    expect_parse_fail(V21, NULL, IMS_E_BADREQ, "Body expected in request.");
    expect_parse_fail(V21, "", IMS_E_BADREQ, "Body expected in request.");
    expect_parse_fail(V21, "[", IMS_E_BADREQ, "Malformed JSON");
    expect_parse_fail(V21, "[{\"op\":\"add\"}] x", IMS_E_BADREQ, "Malformed JSON");
    expect_parse_fail(V21, "{\"op\":\"add\",\"path\":\"/a\",\"value\":\"b\"}", IMS_E_BADREQ,
                      "Request body must be a JSON array of operation objects.");
    expect_parse_fail(V21, "\"x\"", IMS_E_BADREQ, "Malformed JSON");
    expect_parse_fail(V21, "[1]", IMS_E_BADREQ, "Operations must be JSON objects.");
    expect_parse_fail(V21, "[[]]", IMS_E_BADREQ, "Operations must be JSON objects.");
    expect_parse_fail(V21, "[{\"op\":\"add\",\"path\":\"/a\",\"value\":\"b\"}, null]", IMS_E_BADREQ,
                      "Operations must be JSON objects.");
    expect_parse_fail(V21, "[{\"op\":\"add\",\"path\":\"/a\",\"value\":\"a\\u0000b\"}]", IMS_E_BADREQ,
                      "Malformed JSON");
}

static void test_parse_body_with_length(void **state)
{
    /* The body is len bytes, not a C string. */
    const char body[] = "[]garbage";
    struct ims_patch p = {0};
    struct ims_err err = {0};
    assert_int_equal(ims_patch_parse(V21, body, 2, &p, &err), IMS_OK);
    ims_patch_release(&p);
    assert_int_equal(ims_patch_parse(V21, body, sizeof(body) - 1, &p, &err), IMS_E_BADREQ);
}

/* ---- parsing: v2.1 ---- */

static void test_parse_v21_ops(void **state)
{
    struct ims_patch p = {0};
    struct ims_err err = {0};
    const char *body = "[{\"op\":\"add\",\"path\":\"/a\",\"value\":\"1\"},"
                       " {\"op\":\"replace\",\"path\":\"/name\",\"value\":null},"
                       " {\"op\":\"remove\",\"path\":\"/b\"},"
                       " {\"op\":\"remove\",\"path\":\"/c\",\"value\":\"ignored\"}]";
    assert_int_equal(parse(V21, body, &p, &err), IMS_OK);
    assert_false(p.add_must_be_new);
    assert_int_equal(p.n, 4);
    assert_int_equal(p.ops[0].op, IMS_PATCH_ADD);
    assert_string_equal(p.ops[0].path, "a");
    assert_string_equal(json_string_value(p.ops[0].value), "1");
    assert_int_equal(p.ops[1].op, IMS_PATCH_REPLACE);
    assert_string_equal(p.ops[1].path, "name");
    assert_true(json_is_null(p.ops[1].value));
    assert_int_equal(p.ops[2].op, IMS_PATCH_REMOVE);
    assert_string_equal(p.ops[2].path, "b");
    assert_null(p.ops[2].value);
    assert_null(p.ops[3].value);
    ims_patch_release(&p);
    assert_null(p.ops);
}

static void test_parse_v21_errors(void **state)
{
    expect_parse_fail(V21, "[{\"path\":\"/a\",\"value\":\"1\"}]", IMS_E_BADREQ,
                      "Unable to find `op` in JSON Schema change. "
                      "It must be one of the following: add, remove, replace.");
    expect_parse_fail(V21, "[{\"op\":null,\"path\":\"/a\",\"value\":\"1\"}]", IMS_E_BADREQ, "Unable to find `op`");
    const char *unsupported[] = {"test", "move", "copy", "ADD", "delete", ""};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(unsupported); i++) {
        char body[128], want[64];
        snprintf(body, sizeof(body), "[{\"op\":\"%s\",\"path\":\"/a\",\"value\":\"1\",\"from\":\"/b\"}]",
                 unsupported[i]);
        snprintf(want, sizeof(want), "Invalid operation: `%s`.", unsupported[i]);
        expect_parse_fail(V21, body, IMS_E_BADREQ, want);
    }
    expect_parse_fail(V21, "[{\"op\":1,\"path\":\"/a\",\"value\":\"1\"}]", IMS_E_BADREQ, "Invalid operation");
    expect_parse_fail(V21, "[{\"op\":\"add\",\"value\":\"1\"}]", IMS_E_BADREQ,
                      "Unable to find 'path' in JSON Schema change");
    expect_parse_fail(V21, "[{\"op\":\"add\",\"path\":5,\"value\":\"1\"}]", IMS_E_BADREQ, "JSON pointer string");
    expect_parse_fail(V21, "[{\"op\":\"add\",\"path\":\"/a\"}]", IMS_E_BADREQ,
                      "Operation \"add\" requires a member named \"value\".");
    expect_parse_fail(V21, "[{\"op\":\"replace\",\"path\":\"/a\"}]", IMS_E_BADREQ,
                      "Operation \"replace\" requires a member named \"value\".");
    /* The v2.0 shape is not understood as v2.1. */
    expect_parse_fail(V21, "[{\"replace\":\"/name\",\"value\":\"x\"}]", IMS_E_BADREQ, "Unable to find `op`");
}

/* ---- parsing: v2.0 ---- */

static void test_parse_v20_ops(void **state)
{
    struct ims_patch p = {0};
    struct ims_err err = {0};
    const char *body = "[{\"replace\":\"/name\",\"value\":\"x\"},{\"add\":\"/k\",\"value\":\"v\"},{\"remove\":\"/k\"}]";
    assert_int_equal(parse(V20, body, &p, &err), IMS_OK);
    assert_true(p.add_must_be_new);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.ops[0].op, IMS_PATCH_REPLACE);
    assert_string_equal(p.ops[0].path, "name");
    assert_int_equal(p.ops[1].op, IMS_PATCH_ADD);
    assert_string_equal(p.ops[1].path, "k");
    assert_int_equal(p.ops[2].op, IMS_PATCH_REMOVE);
    assert_null(p.ops[2].value);
    ims_patch_release(&p);
}

static void test_parse_v20_errors(void **state)
{
    expect_parse_fail(V20, "[{\"add\":\"/a\",\"replace\":\"/a\",\"value\":\"1\"}]", IMS_E_BADREQ,
                      "Operation objects must contain only one member named \"add\", \"remove\", or \"replace\".");
    expect_parse_fail(V20, "[{\"op\":\"add\",\"path\":\"/a\",\"value\":\"1\"}]", IMS_E_BADREQ,
                      "Operation objects must contain exactly one member named");
    expect_parse_fail(V20, "[{}]", IMS_E_BADREQ, "exactly one member");
    expect_parse_fail(V20, "[{\"add\":\"/a\"}]", IMS_E_BADREQ, "Operation \"add\" requires a member named \"value\".");
    expect_parse_fail(V20, "[{\"add\":null,\"value\":\"1\"}]", IMS_E_BADREQ, "JSON pointer string");
    expect_parse_fail(V20, "[{\"remove\":\"a\"}]", IMS_E_BADREQ, "does not start with \"/\"");
}

/* ---- parsing: JSON pointers ---- */

static void expect_path_index(const char *op, const char *pointer_json, const char *want, const char *index)
{
    char body[512];
    snprintf(body, sizeof(body), "[{\"op\":\"%s\",\"path\":%s,\"value\":\"v\"}]", op, pointer_json);
    struct ims_patch p = {0};
    struct ims_err err = {0};
    if (parse(V21, body, &p, &err) != IMS_OK)
        fail_msg("%s: %s", body, err.msg);
    assert_string_equal(p.ops[0].path, want);
    if (index)
        assert_string_equal(p.ops[0].index, index);
    else
        assert_null(p.ops[0].index);
    ims_patch_release(&p);
}

static void expect_path(const char *op, const char *pointer_json, const char *want)
{
    expect_path_index(op, pointer_json, want, NULL);
}

static void expect_bad_path(const char *op, const char *pointer_json, const char *fragment)
{
    char body[512];
    snprintf(body, sizeof(body), "[{\"op\":\"%s\",\"path\":%s,\"value\":\"v\"}]", op, pointer_json);
    expect_parse_fail(V21, body, IMS_E_BADREQ, fragment);
}

static void test_pointer_decoding(void **state)
{
    expect_path("add", "\"/name\"", "name");
    expect_path("add", "\"/hw_disk_bus\"", "hw_disk_bus");
    expect_path("add", "\"/a~1b\"", "a/b");
    expect_path("add", "\"/a~0b\"", "a~b");
    expect_path("add", "\"/~01\"", "~1");
    expect_path("add", "\"/~10\"", "/0");
    expect_path("add", "\"/ name \"", "name"); /* Glance strips each token */
    expect_path("add", "\"//name\"", "name");  /* and lstrips every leading slash */
    expect_path("add", "\"/__platform\"", "__platform");
    expect_path("add", "\"/\\u00e9t\\u00e9\"", "\xc3\xa9t\xc3\xa9");
    expect_path_index("add", "\"/locations/0\"", "locations", "0");
    expect_path_index("remove", "\"/locations/-\"", "locations", "-");
    expect_path_index("add", "\"/locations/ 1~0 \"", "locations", "1~"); /* decoded and stripped as the root */
    expect_path("replace", "\"/locations\"", "locations");
}

static void test_pointer_errors(void **state)
{
    expect_bad_path("add", "\"name\"", "Pointer `name` does not start with \"/\".");
    expect_bad_path("add", "\"\"", "does not start with \"/\"");
    expect_bad_path("add", "\"/a//b\"", "contains adjacent \"/\"");
    expect_bad_path("add", "\"/a/ /b\"", "contains adjacent \"/\"");
    expect_bad_path("add", "\"/name/\"", "end with \"/\"");
    expect_bad_path("add", "\"//\"", "end with \"/\"");
    expect_bad_path("add", "\"/a~2b\"", "contains \"~\" not part of a recognized escape sequence");
    expect_bad_path("add", "\"/a~\"", "contains \"~\" not part of a recognized escape sequence");
    expect_bad_path("add", "\"/\"", "Invalid JSON pointer for this resource: '/'");
    expect_bad_path("add", "\"/ \"", "Invalid JSON pointer for this resource");
    expect_bad_path("add", "\"/a/b\"", "Invalid JSON pointer for this resource: '/a/b'");
    expect_bad_path("add", "\"/tags/-\"", "Invalid JSON pointer for this resource");
    expect_bad_path("replace", "\"/name/0\"", "Invalid JSON pointer");
    expect_bad_path("add", "\"/locations\"", "Invalid JSON pointer for this resource: '/locations'");
    expect_bad_path("remove", "\"/locations\"", "Invalid JSON pointer");
    expect_bad_path("replace", "\"/locations/0\"", "Invalid JSON pointer");
    expect_bad_path("add", "\"/locations/0/1\"", "Invalid JSON pointer");
}

/* ---- apply: core attributes ---- */

static void test_apply_name(void **state)
{
    struct ims_image img;
    ims_image_init(&img);
    apply_ok(V21, "[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"cirros\"}]", &img, false);
    assert_string_equal(img.name, "cirros");
    apply_ok(V21, "[{\"op\":\"add\",\"path\":\"/name\",\"value\":\"again\"}]", &img, false);
    assert_string_equal(img.name, "again");
    apply_ok(V21, "[{\"op\":\"replace\",\"path\":\"/name\",\"value\":null}]", &img, false);
    assert_null(img.name);
    apply_ok(V20, "[{\"replace\":\"/name\",\"value\":\"v20\"}]", &img, false);
    assert_string_equal(img.name, "v20");

    char body[2048];
    char *n255 = repeat('n', 255);
    snprintf(body, sizeof(body), "[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"%s\"}]", n255);
    apply_ok(V21, body, &img, false);
    assert_int_equal(strlen(img.name), 255);
    free(n255);
    /* 255 characters, 510 bytes: the limit counts characters, like Glance. */
    struct ims_buf b;
    ims_buf_init(&b, 4096);
    ims_buf_adds(&b, "[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"");
    for (int i = 0; i < 255; i++)
        ims_buf_adds(&b, "\xc3\xa9");
    ims_buf_adds(&b, "\"}]");
    apply_ok(V21, b.data, &img, false);
    assert_int_equal(strlen(img.name), 510);
    ims_buf_release(&b);
    ims_image_release(&img);

    char *n256 = repeat('n', 256);
    snprintf(body, sizeof(body), "[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"%s\"}]", n256);
    expect_apply_fail(V21, body, false, IMS_E_BADREQ, "longer than 255 characters");
    free(n256);
    expect_apply_fail(V21, "[{\"op\":\"replace\",\"path\":\"/name\",\"value\":1}]", false, IMS_E_BADREQ,
                      "Invalid value 1 for attribute 'name'");
    expect_apply_fail(V21, "[{\"op\":\"replace\",\"path\":\"/name\",\"value\":[\"a\"]}]", false, IMS_E_BADREQ,
                      "attribute 'name'");
}

static void test_apply_visibility(void **state)
{
    const char *ok[] = {"public", "private", "shared", "community"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(ok); i++) {
        struct ims_image img;
        ims_image_init(&img);
        char body[128];
        snprintf(body, sizeof(body), "[{\"op\":\"replace\",\"path\":\"/visibility\",\"value\":\"%s\"}]", ok[i]);
        apply_ok(V21, body, &img, false);
        assert_string_equal(img.visibility, ok[i]);
        ims_image_release(&img);
    }
    expect_apply_fail(V21, "[{\"op\":\"replace\",\"path\":\"/visibility\",\"value\":\"foo\"}]", false, IMS_E_BADREQ,
                      "Invalid value \"foo\" for attribute 'visibility'");
    expect_apply_fail(V21, "[{\"op\":\"replace\",\"path\":\"/visibility\",\"value\":\"all\"}]", false, IMS_E_BADREQ,
                      "visibility");
    expect_apply_fail(V21, "[{\"op\":\"replace\",\"path\":\"/visibility\",\"value\":null}]", false, IMS_E_BADREQ,
                      "visibility");
    expect_apply_fail(V21, "[{\"op\":\"replace\",\"path\":\"/visibility\",\"value\":\"averyveryverylongvalue\"}]",
                      false, IMS_E_BADREQ, "visibility");
}

static void test_apply_booleans(void **state)
{
    struct ims_image img;
    ims_image_init(&img);
    apply_ok(V21,
             "[{\"op\":\"replace\",\"path\":\"/protected\",\"value\":true},"
             "{\"op\":\"add\",\"path\":\"/os_hidden\",\"value\":true}]",
             &img, false);
    assert_true(img.protected_);
    assert_true(img.os_hidden);
    apply_ok(V21,
             "[{\"op\":\"replace\",\"path\":\"/protected\",\"value\":false},"
             "{\"op\":\"replace\",\"path\":\"/os_hidden\",\"value\":false}]",
             &img, false);
    assert_false(img.protected_);
    assert_false(img.os_hidden);
    ims_image_release(&img);
    const char *bad[] = {"\"true\"", "1", "null", "0"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(bad); i++) {
        char body[128];
        snprintf(body, sizeof(body), "[{\"op\":\"replace\",\"path\":\"/protected\",\"value\":%s}]", bad[i]);
        expect_apply_fail(V21, body, false, IMS_E_BADREQ, "it must be a boolean");
        snprintf(body, sizeof(body), "[{\"op\":\"replace\",\"path\":\"/os_hidden\",\"value\":%s}]", bad[i]);
        expect_apply_fail(V21, body, false, IMS_E_BADREQ, "attribute 'os_hidden'");
    }
}

static void test_apply_min_disk_ram(void **state)
{
    struct ims_image img;
    ims_image_init(&img);
    apply_ok(V21,
             "[{\"op\":\"replace\",\"path\":\"/min_disk\",\"value\":10},"
             "{\"op\":\"replace\",\"path\":\"/min_ram\",\"value\":2147483647}]",
             &img, false);
    assert_int_equal(img.min_disk, 10);
    assert_int_equal(img.min_ram, 2147483647);
    apply_ok(V21, "[{\"op\":\"replace\",\"path\":\"/min_disk\",\"value\":0}]", &img, false);
    assert_int_equal(img.min_disk, 0);
    ims_image_release(&img);
    const char *bad[] = {"-1", "1.0", "1.5", "\"10\"", "null", "true", "2147483648", "-9223372036854775808"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(bad); i++) {
        char body[128];
        snprintf(body, sizeof(body), "[{\"op\":\"replace\",\"path\":\"/min_disk\",\"value\":%s}]", bad[i]);
        expect_apply_fail(V21, body, false, IMS_E_BADREQ, "attribute 'min_disk'");
        snprintf(body, sizeof(body), "[{\"op\":\"replace\",\"path\":\"/min_ram\",\"value\":%s}]", bad[i]);
        expect_apply_fail(V21, body, false, IMS_E_BADREQ, "between 0 and 2147483647");
    }
}

static void test_apply_formats(void **state)
{
    struct ims_image img;
    ims_image_init(&img);
    apply_ok(V21,
             "[{\"op\":\"replace\",\"path\":\"/container_format\",\"value\":\"bare\"},"
             "{\"op\":\"replace\",\"path\":\"/disk_format\",\"value\":\"zvhd2\"}]",
             &img, false);
    assert_string_equal(img.container_format, "bare");
    assert_string_equal(img.disk_format, "zvhd2");
    apply_ok(V21,
             "[{\"op\":\"replace\",\"path\":\"/container_format\",\"value\":null},"
             "{\"op\":\"add\",\"path\":\"/disk_format\",\"value\":null}]",
             &img, false);
    assert_null(img.container_format);
    assert_null(img.disk_format);
    ims_image_release(&img);
    expect_apply_fail(V21, "[{\"op\":\"replace\",\"path\":\"/disk_format\",\"value\":\"exe\"}]", false,
                      IMS_E_BADREQ, "Invalid value \"exe\" for attribute 'disk_format': not a supported format");
    expect_apply_fail(V21, "[{\"op\":\"replace\",\"path\":\"/container_format\",\"value\":\"qcow2\"}]", false,
                      IMS_E_BADREQ, "attribute 'container_format'");
    expect_apply_fail(V21, "[{\"op\":\"replace\",\"path\":\"/disk_format\",\"value\":7}]", false, IMS_E_BADREQ,
                      "string or null");
}

static void test_apply_tags(void **state)
{
    struct ims_image img;
    ims_image_init(&img);
    ims_strlist_add(&img.tags, "old");
    apply_ok(V21, "[{\"op\":\"replace\",\"path\":\"/tags\",\"value\":[\"a\",\"b\",\"a\",\"\"]}]", &img, false);
    assert_int_equal(img.tags.n, 3);
    assert_string_equal(img.tags.items[0], "a");
    assert_string_equal(img.tags.items[1], "b");
    assert_string_equal(img.tags.items[2], "");
    apply_ok(V21, "[{\"op\":\"add\",\"path\":\"/tags\",\"value\":[\"c\"]}]", &img, false);
    assert_int_equal(img.tags.n, 1);
    assert_string_equal(img.tags.items[0], "c");
    apply_ok(V21, "[{\"op\":\"replace\",\"path\":\"/tags\",\"value\":[]}]", &img, false);
    assert_int_equal(img.tags.n, 0);

    struct ims_buf b;
    ims_buf_init(&b, 1 << 16);
    ims_buf_adds(&b, "[{\"op\":\"replace\",\"path\":\"/tags\",\"value\":[");
    for (int i = 0; i < IMS_IMAGE_TAGS_MAX; i++)
        ims_buf_printf(&b, "%s\"t%d\"", i ? "," : "", i);
    size_t len_at_max = b.len;
    ims_buf_adds(&b, ",\"t0\"]}]"); /* a repeat does not count */
    apply_ok(V21, b.data, &img, false);
    assert_int_equal(img.tags.n, IMS_IMAGE_TAGS_MAX);
    ims_image_release(&img);

    b.len = len_at_max;
    ims_buf_adds(&b, ",\"one-too-many\"]}]");
    expect_apply_fail(V21, b.data, false, IMS_E_TOOLARGE, "Maximum number of tags exceeded");
    ims_buf_release(&b);

    char body[1024];
    char *t256 = repeat('t', 256);
    snprintf(body, sizeof(body), "[{\"op\":\"replace\",\"path\":\"/tags\",\"value\":[\"%s\"]}]", t256);
    expect_apply_fail(V21, body, false, IMS_E_BADREQ, "longer than 255 characters");
    free(t256);
    expect_apply_fail(V21, "[{\"op\":\"replace\",\"path\":\"/tags\",\"value\":\"a\"}]", false, IMS_E_BADREQ,
                      "it must be an array of strings");
    expect_apply_fail(V21, "[{\"op\":\"replace\",\"path\":\"/tags\",\"value\":null}]", false, IMS_E_BADREQ,
                      "array of strings");
    expect_apply_fail(V21, "[{\"op\":\"replace\",\"path\":\"/tags\",\"value\":[\"a\",1]}]", false, IMS_E_BADREQ,
                      "each tag must be a string");
    expect_apply_fail(V21, "[{\"op\":\"remove\",\"path\":\"/tags\"}]", false, IMS_E_FORBIDDEN,
                      "Property tags may not be removed.");
}

static void test_apply_remove_core_forbidden(void **state)
{
    const char *core[] = {"name", "visibility", "protected", "os_hidden", "container_format",
                          "disk_format", "min_disk", "min_ram", "tags", "owner"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(core); i++) {
        char body[128], want[128];
        snprintf(body, sizeof(body), "[{\"op\":\"remove\",\"path\":\"/%s\"}]", core[i]);
        snprintf(want, sizeof(want), "Property %s may not be removed.", core[i]);
        expect_apply_fail(V21, body, true, IMS_E_FORBIDDEN, want);
        snprintf(body, sizeof(body), "[{\"remove\":\"/%s\"}]", core[i]);
        expect_apply_fail(V20, body, true, IMS_E_FORBIDDEN, want);
    }
}

static void test_apply_v20_add_conflicts(void **state)
{
    expect_apply_fail(V20, "[{\"add\":\"/name\",\"value\":\"x\"}]", false, IMS_E_CONFLICT,
                      "Property name already present.");
    expect_apply_fail(V20, "[{\"add\":\"/tags\",\"value\":[]}]", false, IMS_E_CONFLICT,
                      "Property tags already present.");
    expect_apply_fail(V20, "[{\"add\":\"/existing\",\"value\":\"x\"}]", false, IMS_E_CONFLICT,
                      "Property existing already present.");
    struct ims_image img;
    ims_image_init(&img);
    apply_ok(V20, "[{\"add\":\"/fresh\",\"value\":\"1\"},{\"replace\":\"/fresh\",\"value\":\"2\"}]", &img, false);
    assert_string_equal(ims_kvlist_get(&img.props, "fresh"), "2");
    ims_image_release(&img);
}

static void test_apply_owner(void **state)
{
    struct ims_image img;
    ims_image_init(&img);
    ims_set_str(&img.owner, "p1");
    apply_ok(V21, "[{\"op\":\"replace\",\"path\":\"/owner\",\"value\":\"p2\"}]", &img, true);
    assert_string_equal(img.owner, "p2");
    apply_ok(V21, "[{\"op\":\"add\",\"path\":\"/owner\",\"value\":\"p3\"}]", &img, true);
    assert_string_equal(img.owner, "p3");
    struct ims_err err = {0};
    assert_int_equal(run(V21, "[{\"op\":\"replace\",\"path\":\"/owner\",\"value\":\"p4\"}]", &img, false, &err),
                     IMS_E_FORBIDDEN);
    assert_string_equal(err.msg, "Owner can't be updated by non admin.");
    assert_int_equal(run(V21, "[{\"op\":\"add\",\"path\":\"/owner\",\"value\":\"p4\"}]", &img, false, &err),
                     IMS_E_FORBIDDEN);
    assert_string_equal(img.owner, "p3");
    ims_image_release(&img);
    expect_apply_fail(V21, "[{\"op\":\"replace\",\"path\":\"/owner\",\"value\":null}]", true, IMS_E_BADREQ,
                      "attribute 'owner': it must be a string");
    char body[1024];
    char *o256 = repeat('o', 256);
    snprintf(body, sizeof(body), "[{\"op\":\"replace\",\"path\":\"/owner\",\"value\":\"%s\"}]", o256);
    expect_apply_fail(V21, body, true, IMS_E_BADREQ, "longer than 255 characters");
    free(o256);
}

/* ---- apply: read-only and reserved ---- */

static void test_apply_readonly(void **state)
{
    const char *ro[] = {"id", "status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size",
                        "created_at", "updated_at", "file", "self", "schema", "direct_url", "stores"};
    const char *ops[] = {"add", "replace", "remove"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(ro); i++) {
        for (size_t j = 0; j < IMS_ARRAY_SIZE(ops); j++) {
            char body[160], want[96];
            snprintf(body, sizeof(body), "[{\"op\":\"%s\",\"path\":\"/%s\",\"value\":\"x\"}]", ops[j], ro[i]);
            snprintf(want, sizeof(want), "Attribute '%s' is read-only.", ro[i]);
            expect_apply_fail(V21, body, true, IMS_E_FORBIDDEN, want);
        }
    }
    expect_apply_fail(V20, "[{\"replace\":\"/status\",\"value\":\"active\"}]", true, IMS_E_FORBIDDEN,
                      "Attribute 'status' is read-only.");
}

static void test_apply_reserved(void **state)
{
    const char *reserved[] = {"location", "deleted", "deleted_at", "os_glance_import_task"};
    const char *ops[] = {"add", "replace", "remove"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(reserved); i++) {
        for (size_t j = 0; j < IMS_ARRAY_SIZE(ops); j++) {
            char body[160], want[96];
            snprintf(body, sizeof(body), "[{\"op\":\"%s\",\"path\":\"/%s\",\"value\":\"x\"}]", ops[j], reserved[i]);
            snprintf(want, sizeof(want), "Attribute '%s' is reserved.", reserved[i]);
            expect_apply_fail(V21, body, true, IMS_E_FORBIDDEN, want);
        }
    }
    expect_apply_fail(V21, "[{\"op\":\"add\",\"path\":\"/locations/0\",\"value\":{\"url\":\"x\",\"metadata\":{}}}]",
                      true, IMS_E_FORBIDDEN, "Attribute 'locations' is reserved.");
    expect_apply_fail(V21, "[{\"op\":\"remove\",\"path\":\"/locations/0\"}]", true, IMS_E_FORBIDDEN,
                      "Attribute 'locations' is reserved.");
    expect_apply_fail(V21, "[{\"op\":\"replace\",\"path\":\"/locations\",\"value\":[]}]", true, IMS_E_FORBIDDEN,
                      "Attribute 'locations' is reserved.");
}

static void test_apply_checks_everything_before_changing(void **state)
{
    struct ims_image img;
    ims_image_init(&img);
    ims_set_str(&img.name, "before");
    struct ims_err err = {0};
    assert_int_equal(run(V21,
                         "[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"after\"},"
                         "{\"op\":\"add\",\"path\":\"/p\",\"value\":\"1\"},"
                         "{\"op\":\"replace\",\"path\":\"/id\",\"value\":\"x\"}]",
                         &img, true, &err),
                     IMS_E_FORBIDDEN);
    assert_string_equal(img.name, "before");
    assert_int_equal(img.props.n, 0);
    assert_int_equal(run(V21,
                         "[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"after\"},"
                         "{\"op\":\"replace\",\"path\":\"/min_ram\",\"value\":-5}]",
                         &img, true, &err),
                     IMS_E_BADREQ);
    assert_string_equal(img.name, "before");
    ims_image_release(&img);
}

/* ---- apply: properties ---- */

static void test_apply_properties(void **state)
{
    struct ims_image img;
    ims_image_init(&img);
    apply_ok(V21,
             "[{\"op\":\"add\",\"path\":\"/hw_disk_bus\",\"value\":\"virtio\"},"
             "{\"op\":\"add\",\"path\":\"/__platform\",\"value\":\"Ubuntu\"},"
             "{\"op\":\"add\",\"path\":\"/a~1b\",\"value\":\"\"}]",
             &img, false);
    assert_int_equal(img.props.n, 3);
    assert_string_equal(ims_kvlist_get(&img.props, "hw_disk_bus"), "virtio");
    assert_string_equal(ims_kvlist_get(&img.props, "__platform"), "Ubuntu");
    assert_string_equal(ims_kvlist_get(&img.props, "a/b"), "");
    /* v2.1 add of an existing property replaces it. */
    apply_ok(V21, "[{\"op\":\"add\",\"path\":\"/hw_disk_bus\",\"value\":\"scsi\"}]", &img, false);
    assert_string_equal(ims_kvlist_get(&img.props, "hw_disk_bus"), "scsi");
    apply_ok(V21, "[{\"op\":\"replace\",\"path\":\"/__platform\",\"value\":\"Debian\"}]", &img, false);
    assert_string_equal(ims_kvlist_get(&img.props, "__platform"), "Debian");
    apply_ok(V21, "[{\"op\":\"remove\",\"path\":\"/a~1b\"}]", &img, false);
    assert_null(ims_kvlist_get(&img.props, "a/b"));
    assert_int_equal(img.props.n, 2);
    /* Operations see the effect of earlier ones. */
    apply_ok(V21,
             "[{\"op\":\"add\",\"path\":\"/t\",\"value\":\"1\"},{\"op\":\"replace\",\"path\":\"/t\",\"value\":\"2\"},"
             "{\"op\":\"remove\",\"path\":\"/t\"},{\"op\":\"add\",\"path\":\"/t\",\"value\":\"3\"}]",
             &img, false);
    assert_string_equal(ims_kvlist_get(&img.props, "t"), "3");
    ims_image_release(&img);
}

static void test_apply_property_conflicts(void **state)
{
    expect_apply_fail(V21, "[{\"op\":\"replace\",\"path\":\"/missing\",\"value\":\"x\"}]", false, IMS_E_CONFLICT,
                      "Property missing does not exist.");
    expect_apply_fail(V21, "[{\"op\":\"remove\",\"path\":\"/missing\"}]", false, IMS_E_CONFLICT,
                      "Property missing does not exist.");
    expect_apply_fail(V20, "[{\"replace\":\"/missing\",\"value\":\"x\"}]", false, IMS_E_CONFLICT,
                      "does not exist");
    expect_apply_fail(V21, "[{\"op\":\"remove\",\"path\":\"/existing\"},{\"op\":\"remove\",\"path\":\"/existing\"}]",
                      false, IMS_E_CONFLICT, "Property existing does not exist.");
}

static void test_apply_property_values(void **state)
{
    const char *bad[] = {"1", "1.5", "true", "null", "[]", "{}"};
    for (size_t i = 0; i < IMS_ARRAY_SIZE(bad); i++) {
        char body[128];
        snprintf(body, sizeof(body), "[{\"op\":\"add\",\"path\":\"/p\",\"value\":%s}]", bad[i]);
        expect_apply_fail(V21, body, false, IMS_E_BADREQ, "image properties must be strings");
        snprintf(body, sizeof(body), "[{\"op\":\"replace\",\"path\":\"/existing\",\"value\":%s}]", bad[i]);
        expect_apply_fail(V21, body, false, IMS_E_BADREQ, "attribute 'existing'");
    }

    struct ims_buf b;
    ims_buf_init(&b, 1 << 20);
    char *k255 = repeat('k', 255), *k256 = repeat('k', 256);
    ims_buf_printf(&b, "[{\"op\":\"add\",\"path\":\"/%s\",\"value\":\"v\"}]", k255);
    struct ims_image img;
    ims_image_init(&img);
    apply_ok(V21, b.data, &img, false);
    assert_string_equal(ims_kvlist_get(&img.props, k255), "v");
    ims_buf_reset(&b);
    ims_buf_printf(&b, "[{\"op\":\"add\",\"path\":\"/%s\",\"value\":\"v\"}]", k256);
    expect_apply_fail(V21, b.data, false, IMS_E_BADREQ, "Custom property should not be greater than 255 characters.");
    free(k255);
    free(k256);

    char *v65535 = repeat('v', 65535), *v65536 = repeat('v', 65536);
    ims_buf_reset(&b);
    ims_buf_printf(&b, "[{\"op\":\"add\",\"path\":\"/big\",\"value\":\"%s\"}]", v65535);
    apply_ok(V21, b.data, &img, false);
    assert_int_equal(strlen(ims_kvlist_get(&img.props, "big")), 65535);
    ims_buf_reset(&b);
    ims_buf_printf(&b, "[{\"op\":\"add\",\"path\":\"/big\",\"value\":\"%s\"}]", v65536);
    expect_apply_fail(V21, b.data, false, IMS_E_BADREQ, "Value of property 'big' is longer than 65535 bytes");
    free(v65535);
    free(v65536);
    ims_buf_release(&b);
    ims_image_release(&img);
}

static void test_apply_property_quota(void **state)
{
    struct ims_image img;
    ims_image_init(&img);
    for (int i = 0; i < IMS_IMAGE_PROPS_MAX; i++) {
        char key[16];
        snprintf(key, sizeof(key), "p%d", i);
        ims_kvlist_add(&img.props, key, "v");
    }
    struct ims_err err = {0};
    assert_int_equal(run(V21, "[{\"op\":\"add\",\"path\":\"/one_more\",\"value\":\"v\"}]", &img, false, &err),
                     IMS_E_TOOLARGE);
    assert_non_null(strstr(err.msg, "Maximum number of image properties exceeded"));
    assert_int_equal(img.props.n, IMS_IMAGE_PROPS_MAX);
    /* Changing an existing one, or removing first, stays within the quota. */
    apply_ok(V21, "[{\"op\":\"add\",\"path\":\"/p0\",\"value\":\"w\"}]", &img, false);
    assert_string_equal(ims_kvlist_get(&img.props, "p0"), "w");
    apply_ok(V21,
             "[{\"op\":\"remove\",\"path\":\"/p1\"},{\"op\":\"add\",\"path\":\"/one_more\",\"value\":\"v\"}]",
             &img, false);
    assert_int_equal(img.props.n, IMS_IMAGE_PROPS_MAX);
    assert_string_equal(ims_kvlist_get(&img.props, "one_more"), "v");
    ims_image_release(&img);
}

/* The API layer validates create bodies by building "add" ops itself, with
 * paths and values borrowed from the body. */
static void test_apply_handbuilt_ops(void **state)
{
    json_t *body =
        json_pack("{s:s, s:[s], s:s, s:b}", "name", "n", "tags", "t", "__platform", "Ubuntu", "protected", 1);
    struct ims_patch_op ops[4];
    struct ims_patch p = {.ops = ops};
    const char *key;
    json_t *value;
    json_object_foreach(body, key, value)
        ops[p.n++] = (struct ims_patch_op){.op = IMS_PATCH_ADD, .path = (char *)key, .value = value};
    struct ims_image img;
    ims_image_init(&img);
    struct ims_err err = {0};
    assert_int_equal(ims_patch_apply(&p, &img, false, &err), IMS_OK);
    assert_string_equal(img.name, "n");
    assert_int_equal(img.tags.n, 1);
    assert_true(img.protected_);
    assert_string_equal(ims_kvlist_get(&img.props, "__platform"), "Ubuntu");
    ims_image_release(&img);

    struct ims_patch_op empty = {.op = IMS_PATCH_ADD, .path = (char *)"", .value = json_object_get(body, "name")};
    struct ims_patch bad = {.ops = &empty, .n = 1};
    ims_image_init(&img);
    assert_int_equal(ims_patch_apply(&bad, &img, false, &err), IMS_E_BADREQ);
    assert_string_equal(err.msg, "Attribute names must not be empty.");
    ims_image_release(&img);
    json_decref(body);
}

static void test_apply_empty_patch(void **state)
{
    struct ims_image img;
    ims_image_init(&img);
    ims_set_str(&img.name, "same");
    apply_ok(V21, "[]", &img, false);
    apply_ok(V20, " [ ] ", &img, false);
    assert_string_equal(img.name, "same");
    assert_int_equal(img.props.n, 0);
    ims_image_release(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_init_defaults),
        cmocka_unit_test(test_image_copy_is_deep),
        cmocka_unit_test(test_set_str),
        cmocka_unit_test(test_vocabularies),
        cmocka_unit_test(test_attr_kinds),
        cmocka_unit_test(test_system_attrs),
        cmocka_unit_test(test_parse_media_types),
        cmocka_unit_test(test_parse_envelope),
        cmocka_unit_test(test_parse_body_with_length),
        cmocka_unit_test(test_parse_v21_ops),
        cmocka_unit_test(test_parse_v21_errors),
        cmocka_unit_test(test_parse_v20_ops),
        cmocka_unit_test(test_parse_v20_errors),
        cmocka_unit_test(test_pointer_decoding),
        cmocka_unit_test(test_pointer_errors),
        cmocka_unit_test(test_apply_name),
        cmocka_unit_test(test_apply_visibility),
        cmocka_unit_test(test_apply_booleans),
        cmocka_unit_test(test_apply_min_disk_ram),
        cmocka_unit_test(test_apply_formats),
        cmocka_unit_test(test_apply_tags),
        cmocka_unit_test(test_apply_remove_core_forbidden),
        cmocka_unit_test(test_apply_v20_add_conflicts),
        cmocka_unit_test(test_apply_owner),
        cmocka_unit_test(test_apply_readonly),
        cmocka_unit_test(test_apply_reserved),
        cmocka_unit_test(test_apply_checks_everything_before_changing),
        cmocka_unit_test(test_apply_properties),
        cmocka_unit_test(test_apply_property_conflicts),
        cmocka_unit_test(test_apply_property_values),
        cmocka_unit_test(test_apply_property_quota),
        cmocka_unit_test(test_apply_handbuilt_ops),
        cmocka_unit_test(test_apply_empty_patch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
