/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: the bodies of the compute admin API, through the parsers
 * their handlers call (lib/api/compute_bodies.c). The first byte chooses
 * the body, the rest is the body as sent:
 *   0 POST /v1/admin/servers   1 POST /v1/admin/volumes
 *   2 POST /v1/admin/backups   3 PATCH /v1/admin/servers/{id}
 * Invariants: a refusal is a 400 with IMG.0001 and a message; what is
 * accepted holds only valid text within its limits: a project id, UUIDs,
 * 1..IMS_SERVER_DISKS_MAX disks, a known state and firmware, RAM in range. */
#include <stdlib.h>
#include <string.h>

#include "../lib/api/api-int.h"
#include "fuzz.h"

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void check_refusal(enum ims_rc rc, const struct ims_err *err)
{
    check(rc == IMS_E_BADREQ && strcmp(err->code, "IMG.0001") == 0 && err->msg[0] && ims_text_valid(err->msg));
}

static bool text_ok(const char *s, size_t max) { return s && *s && strlen(s) <= max && ims_text_valid(s); }

static void server(const char *data, size_t len)
{
    struct ims_err err = {0};
    json_t *body = NULL;
    struct ims_server_spec spec;
    const char *disks[IMS_SERVER_DISKS_MAX];
    enum ims_rc rc = api_compute_server_parse(data, len, &body, &spec, disks, &err);
    if (rc != IMS_OK) {
        check_refusal(rc, &err);
        return;
    }
    check(text_ok(spec.name, IMS_SERVER_NAME_MAX) && ims_project_id_valid(spec.project_id) &&
          text_ok(spec.os_version, 255));
    check(spec.ndisks >= 1 && spec.ndisks <= IMS_SERVER_DISKS_MAX && spec.disks == disks);
    for (size_t i = 0; i < spec.ndisks; i++)
        check(text_ok(spec.disks[i], 4096));
    check(spec.state == IMS_SERVER_STOPPED || spec.state == IMS_SERVER_RUNNING);
    check(spec.firmware == IMS_FIRMWARE_BIOS || spec.firmware == IMS_FIRMWARE_UEFI);
    check(spec.ram_mb >= 0 && spec.ram_mb <= IMS_SERVER_RAM_MAX);
    json_decref(body);
}

static void volume(const char *data, size_t len)
{
    struct ims_err err = {0};
    json_t *body = NULL;
    struct ims_volume_spec spec;
    enum ims_rc rc = api_compute_volume_parse(data, len, &body, &spec, &err);
    if (rc != IMS_OK) {
        check_refusal(rc, &err);
        return;
    }
    check(text_ok(spec.disk, 4096) && ims_project_id_valid(spec.project_id));
    check(!spec.server_id || ims_uuid_valid(spec.server_id));
    json_decref(body);
}

static void backup(const char *data, size_t len)
{
    struct ims_err err = {0};
    json_t *body = NULL;
    const char *server_id = NULL;
    enum ims_rc rc = api_compute_backup_parse(data, len, &body, &server_id, &err);
    if (rc != IMS_OK) {
        check_refusal(rc, &err);
        return;
    }
    check(ims_uuid_valid(server_id));
    json_decref(body);
}

static void state(const char *data, size_t len)
{
    struct ims_err err = {0};
    enum ims_server_state st = (enum ims_server_state)77;
    enum ims_rc rc = api_compute_state_parse(data, len, &st, &err);
    if (rc != IMS_OK) {
        check_refusal(rc, &err);
        check(st == (enum ims_server_state)77); /* written only on success */
        return;
    }
    check(st == IMS_SERVER_STOPPED || st == IMS_SERVER_RUNNING);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1 << 16))
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0] % 4) {
    case 0: server(body, len); break;
    case 1: volume(body, len); break;
    case 2: backup(body, len); break;
    default: state(body, len); break;
    }
    return 0;
}
