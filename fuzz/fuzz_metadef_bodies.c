/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: metadata definition bodies and namespace files, through the
 * parsers the handlers and imsctl call (lib/query/metadef.c). The first
 * byte chooses the body, the rest is the body as sent:
 *   0 a namespace (POST/PUT, a file)   1 an object   2 a property
 *   3 a resource type association      4 a tag       5 {"tags": [...]}
 * Invariants: a refusal is 400, 403 (read-only member) or 409 (a name twice)
 * with a message of valid text; what is accepted holds names of valid text
 * within their limits, at most IMS_MD_ITEMS_MAX items of a kind, and
 * stored JSON (property definitions, object properties and required
 * names) that parses back to the shape the API writes out verbatim. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ims/metadef.h"

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void check_refusal(enum ims_rc rc, const struct ims_err *err)
{
    check((rc == IMS_E_BADREQ || rc == IMS_E_FORBIDDEN || rc == IMS_E_CONFLICT) && err->msg[0] &&
          ims_utf8_valid(err->msg, strlen(err->msg)));
}

static bool name_ok(const char *s, size_t max) { return ims_md_name_valid(s, max); }

static bool opt_text(const char *s, size_t max) { return !s || (strlen(s) <= max && ims_utf8_valid(s, strlen(s))); }

/* A definition: an object with a string type among Glance's and a title. */
static void check_definition(json_t *def)
{
    check(json_is_object(def) && json_is_string(json_object_get(def, "type")) &&
          json_is_string(json_object_get(def, "title")) && !json_object_get(def, "name"));
}

static void check_map(const char *text)
{
    if (!text)
        return;
    json_t *m = json_loads(text, 0, NULL);
    check(json_is_object(m) && json_object_size(m) <= IMS_MD_ITEMS_MAX);
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v)
    {
        check(name_ok(k, IMS_MD_NAME_MAX));
        check_definition(v);
    }
    char *prefixed = ims_md_prefix_names(text, "p_");
    json_t *pm = json_loads(prefixed ? prefixed : "", 0, NULL);
    check(json_is_object(pm) && json_object_size(pm) == json_object_size(m));
    json_decref(pm);
    free(prefixed);
    json_decref(m);
}

static void check_object(const struct ims_md_object *o)
{
    check(name_ok(o->name, IMS_MD_NAME_MAX) && opt_text(o->description, IMS_MD_TEXT_MAX));
    if (o->required) {
        json_t *r = json_loads(o->required, 0, NULL);
        check(json_is_array(r));
        json_decref(r);
    }
    check_map(o->properties);
}

static void check_property(const struct ims_md_property *p)
{
    check(name_ok(p->name, IMS_MD_NAME_MAX));
    json_t *def = json_loads(p->schema, 0, NULL);
    check_definition(def);
    json_decref(def);
}

static void check_assoc(const struct ims_md_assoc *a)
{
    check(name_ok(a->name, IMS_MD_RT_MAX) && opt_text(a->prefix, IMS_MD_RT_MAX) &&
          opt_text(a->properties_target, IMS_MD_RT_MAX));
}

static void doc(const char *data, size_t len)
{
    struct ims_err err = {0};
    struct ims_md_doc d;
    enum ims_rc rc = ims_md_doc_parse(data, len, &d, &err);
    if (rc != IMS_OK) {
        check_refusal(rc, &err);
        return;
    }
    check(name_ok(d.ns.name, IMS_MD_NAMESPACE_MAX) && opt_text(d.ns.display_name, IMS_MD_NAMESPACE_MAX) &&
          opt_text(d.ns.description, IMS_MD_NS_DESCRIPTION_MAX) && opt_text(d.ns.owner, IMS_MD_OWNER_MAX));
    check(d.nassocs <= IMS_MD_ITEMS_MAX && d.nprops <= IMS_MD_ITEMS_MAX && d.nobjects <= IMS_MD_ITEMS_MAX &&
          d.ntags <= IMS_MD_ITEMS_MAX);
    for (size_t i = 0; i < d.nassocs; i++)
        check_assoc(&d.assocs[i]);
    for (size_t i = 0; i < d.nprops; i++)
        check_property(&d.props[i]);
    for (size_t i = 0; i < d.nobjects; i++)
        check_object(&d.objects[i]);
    for (size_t i = 0; i < d.ntags; i++) {
        check(name_ok(d.tags[i].name, IMS_MD_NAME_MAX));
        for (size_t k = 0; k < i; k++)
            check(strcmp(d.tags[i].name, d.tags[k].name) != 0);
    }
    ims_md_doc_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1 << 16))
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    struct ims_err err = {0};
    enum ims_rc rc = IMS_OK;
    switch (data[0] % 6) {
    case 0: doc(body, len); return 0;
    case 1: {
        struct ims_md_object o;
        if ((rc = ims_md_object_parse(body, len, &o, &err)) == IMS_OK) {
            check_object(&o);
            ims_md_object_release(&o);
        }
        break;
    }
    case 2: {
        struct ims_md_property p;
        if ((rc = ims_md_property_parse(body, len, &p, &err)) == IMS_OK) {
            check_property(&p);
            ims_md_property_release(&p);
        }
        break;
    }
    case 3: {
        struct ims_md_assoc a;
        if ((rc = ims_md_assoc_parse(body, len, &a, &err)) == IMS_OK) {
            check_assoc(&a);
            ims_md_assoc_release(&a);
        }
        break;
    }
    case 4: {
        struct ims_md_tag t;
        if ((rc = ims_md_tag_parse(body, len, &t, &err)) == IMS_OK) {
            check(name_ok(t.name, IMS_MD_NAME_MAX));
            ims_md_tag_release(&t);
        }
        break;
    }
    default: {
        struct ims_md_tag *t = NULL;
        size_t n = 0;
        if ((rc = ims_md_tags_parse(body, len, &t, &n, &err)) == IMS_OK) {
            check(n <= IMS_MD_ITEMS_MAX);
            for (size_t i = 0; i < n; i++) {
                check(name_ok(t[i].name, IMS_MD_NAME_MAX));
                ims_md_tag_release(&t[i]);
            }
            free(t);
        }
        break;
    }
    }
    if (rc != IMS_OK)
        check_refusal(rc, &err);
    return 0;
}
