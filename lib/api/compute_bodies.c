/* SPDX-License-Identifier: Apache-2.0
 * The bodies of the compute admin API (POST /v1/admin/servers, volumes,
 * backups; PATCH /v1/admin/servers/{id}) as pure parsers: no request, no
 * service, so fuzz/fuzz_compute_bodies.c runs them on arbitrary bytes. A
 * refusal is IMS_E_BADREQ with IMG.0001 naming the member; unknown
 * members are refused, so a misspelt option never passes silently. What
 * only the source can judge (the OS table, the disk files) it judges. */
#include <stdio.h>
#include <string.h>

#include "api-int.h"

#define DISK_REF_MAX 4096
#define OS_VERSION_MAX 255

static enum ims_rc bad(struct ims_err *err, const char *msg)
{
    return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "%s", msg);
}

/* The body as a JSON object whose members are all in `allowed`. */
static enum ims_rc body_object(const char *data, size_t len, const char *const *allowed, json_t **ret,
                               struct ims_err *err)
{
    json_error_t je;
    json_t *body = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &je);
    /* jansson quotes the bytes near the error, which may be control
     * characters or broken UTF-8: those are not echoed. */
    if (!body)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Malformed JSON in request body (line %d, column %d)%s%s.",
                             je.line, je.column, ims_text_valid(je.text) ? ": " : "",
                             ims_text_valid(je.text) ? je.text : "");
    if (!json_is_object(body)) {
        json_decref(body);
        return bad(err, "The request body must be a JSON object.");
    }
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        bool known = false;
        for (const char *const *a = allowed; *a; a++)
            known = known || strcmp(*a, key) == 0;
        if (!known) {
            /* Echoed only whole (a cut could split a UTF-8 sequence). */
            bool show = strlen(key) <= 64 && ims_text_valid(key);
            ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Unknown member '%s' in the request body.",
                          show ? key : "(not shown)");
            json_decref(body);
            return IMS_E_BADREQ;
        }
    }
    *ret = body;
    return IMS_OK;
}

/* A string member of 1..max bytes of valid text; absent leaves *ret. */
static bool text(json_t *body, const char *key, size_t max, bool required, const char **ret, struct ims_err *err)
{
    json_t *v = json_object_get(body, key);
    if (!v) {
        if (required)
            ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'%s' is required.", key);
        return !required;
    }
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    if (!s || n == 0 || n > max || n != json_string_length(v) || !ims_text_valid(s)) {
        ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'%s' must be a string of 1 to %zu characters of valid text.",
                      key, max);
        return false;
    }
    *ret = s;
    return true;
}

static bool project_id(json_t *body, const char **ret, struct ims_err *err)
{
    if (!text(body, "project_id", IMS_PROJECT_ID_LEN, true, ret, err))
        return false;
    if (!ims_project_id_valid(*ret)) {
        bad(err, "'project_id' must be a project id (32 hexadecimal digits).");
        return false;
    }
    return true;
}

static bool uuid_member(json_t *body, const char *key, bool required, const char **ret, struct ims_err *err)
{
    if (!text(body, key, IMS_UUID_LEN, required, ret, err))
        return false;
    if (*ret && !ims_uuid_valid(*ret)) {
        ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'%s' must be a UUID.", key);
        return false;
    }
    return true;
}

static bool state_member(json_t *body, bool required, enum ims_server_state *ret, struct ims_err *err)
{
    const char *s = NULL;
    if (!text(body, "state", 16, required, &s, err))
        return false;
    if (s && !ims_server_state_parse(s, ret)) {
        bad(err, "'state' must be \"stopped\" or \"running\".");
        return false;
    }
    return true;
}

enum ims_rc api_compute_server_parse(const char *data, size_t len, json_t **ret_body, struct ims_server_spec *spec,
                                     const char *disks[IMS_SERVER_DISKS_MAX], struct ims_err *err)
{
    static const char *const allowed[] = {"name", "project_id", "os_version", "disks", "state", "firmware",
                                          "ram", NULL};
    json_t *body;
    enum ims_rc rc = body_object(data, len, allowed, &body, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_server_spec s = {0};
    const char *fw = NULL;
    bool ok = text(body, "name", IMS_SERVER_NAME_MAX, true, &s.name, err) && project_id(body, &s.project_id, err) &&
              text(body, "os_version", OS_VERSION_MAX, true, &s.os_version, err) &&
              state_member(body, false, &s.state, err) && text(body, "firmware", 8, false, &fw, err);
    if (ok && fw && !ims_firmware_parse(fw, &s.firmware))
        ok = (bad(err, "'firmware' must be \"bios\" or \"uefi\"."), false);
    json_t *ram = json_object_get(body, "ram");
    if (ok && ram) {
        json_int_t mb = json_integer_value(ram);
        if (!json_is_integer(ram) || mb < 0 || mb > IMS_SERVER_RAM_MAX)
            ok = (ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'ram' must be an integer from 0 to %lld (MB).",
                                (long long)IMS_SERVER_RAM_MAX),
                  false);
        else
            s.ram_mb = mb;
    }
    json_t *jd = json_object_get(body, "disks");
    if (ok && (!json_is_array(jd) || json_array_size(jd) == 0 || json_array_size(jd) > IMS_SERVER_DISKS_MAX))
        ok = (ims_fail_code(err, IMS_E_BADREQ, "IMG.0001",
                            "'disks' must be an array of 1 to %d disks (the system disk first).",
                            IMS_SERVER_DISKS_MAX),
              false);
    for (size_t i = 0; ok && i < json_array_size(jd); i++) {
        json_t *d = json_array_get(jd, i);
        const char *ref = json_string_value(d);
        size_t n = ref ? strlen(ref) : 0;
        if (!ref || n == 0 || n > DISK_REF_MAX || n != json_string_length(d) || !ims_text_valid(ref))
            ok = (ims_fail_code(err, IMS_E_BADREQ, "IMG.0001",
                                "'disks' must hold strings of 1 to %d characters: absolute paths or bucket:object.",
                                DISK_REF_MAX),
                  false);
        else
            disks[s.ndisks++] = ref;
    }
    if (!ok) {
        json_decref(body);
        return IMS_E_BADREQ;
    }
    s.disks = disks;
    *spec = s;
    *ret_body = body;
    return IMS_OK;
}

enum ims_rc api_compute_volume_parse(const char *data, size_t len, json_t **ret_body, struct ims_volume_spec *spec,
                                     struct ims_err *err)
{
    static const char *const allowed[] = {"disk", "project_id", "server_id", NULL};
    json_t *body;
    enum ims_rc rc = body_object(data, len, allowed, &body, err);
    if (rc != IMS_OK)
        return rc;
    struct ims_volume_spec s = {0};
    if (!text(body, "disk", DISK_REF_MAX, true, &s.disk, err) || !project_id(body, &s.project_id, err) ||
        !uuid_member(body, "server_id", false, &s.server_id, err)) {
        json_decref(body);
        return IMS_E_BADREQ;
    }
    *spec = s;
    *ret_body = body;
    return IMS_OK;
}

enum ims_rc api_compute_backup_parse(const char *data, size_t len, json_t **ret_body, const char **ret_server_id,
                                     struct ims_err *err)
{
    static const char *const allowed[] = {"server_id", NULL};
    json_t *body;
    enum ims_rc rc = body_object(data, len, allowed, &body, err);
    if (rc != IMS_OK)
        return rc;
    const char *id = NULL;
    if (!uuid_member(body, "server_id", true, &id, err)) {
        json_decref(body);
        return IMS_E_BADREQ;
    }
    *ret_server_id = id;
    *ret_body = body;
    return IMS_OK;
}

enum ims_rc api_compute_state_parse(const char *data, size_t len, enum ims_server_state *ret, struct ims_err *err)
{
    static const char *const allowed[] = {"state", NULL};
    json_t *body;
    enum ims_rc rc = body_object(data, len, allowed, &body, err);
    if (rc != IMS_OK)
        return rc;
    enum ims_server_state st = IMS_SERVER_STOPPED;
    bool ok = state_member(body, true, &st, err);
    json_decref(body);
    if (!ok)
        return IMS_E_BADREQ;
    *ret = st;
    return IMS_OK;
}
