/* SPDX-License-Identifier: Apache-2.0
 * The compute records (server.h): their vocabularies and lifecycle, and
 * the shape of a disk reference. On base alone: the repository uses them. */
#include <string.h>

#include "compute-int.h"
#include "ims/compute.h"
#include "ims/obs.h"
#include "ims/server.h"

const char *ims_server_state_name(enum ims_server_state s) { return s == IMS_SERVER_RUNNING ? "running" : "stopped"; }

bool ims_server_state_parse(const char *s, enum ims_server_state *ret)
{
    if (ims_streq(s, "stopped"))
        *ret = IMS_SERVER_STOPPED;
    else if (ims_streq(s, "running"))
        *ret = IMS_SERVER_RUNNING;
    else
        return false;
    return true;
}

const char *ims_firmware_name(enum ims_firmware f) { return f == IMS_FIRMWARE_UEFI ? "uefi" : "bios"; }

bool ims_firmware_parse(const char *s, enum ims_firmware *ret)
{
    if (ims_streq(s, "bios"))
        *ret = IMS_FIRMWARE_BIOS;
    else if (ims_streq(s, "uefi"))
        *ret = IMS_FIRMWARE_UEFI;
    else
        return false;
    return true;
}

void ims_volume_release(struct ims_volume *v)
{
    free(v->project_id);
    free(v->server_id);
    free(v->disk);
    free(v->format);
    *v = (struct ims_volume){0};
}

void ims_volume_array_free(struct ims_volume *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ims_volume_release(&v[i]);
    free(v);
}

void ims_server_release(struct ims_server *s)
{
    free(s->name);
    free(s->project_id);
    free(s->os_version);
    ims_volume_array_free(s->volumes, s->nvolumes);
    *s = (struct ims_server){0};
}

void ims_server_array_free(struct ims_server *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ims_server_release(&s[i]);
    free(s);
}

void ims_backup_release(struct ims_backup *b)
{
    free(b->project_id);
    free(b->server_name);
    free(b->os_version);
    ims_volume_array_free(b->volumes, b->nvolumes);
    *b = (struct ims_backup){0};
}

void ims_backup_array_free(struct ims_backup *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ims_backup_release(&b[i]);
    free(b);
}

#define PATH_MAX_LEN 4095

/* "bucket:object" as object storage names it (ims_obs_url_parse: S3's
 * bucket rules, keys that stay inside their bucket). */
static enum ims_obs_name_rc obs_parse(const char *ref)
{
    char bucket[IMS_OBS_BUCKET_MAX + 1], key[IMS_OBS_KEY_MAX + 1];
    return ims_obs_url_parse(ref, strlen(ref), bucket, sizeof(bucket), key, sizeof(key));
}

bool ims_disk_ref_is_obs(const char *ref)
{
    return ref && ref[0] != '/' && obs_parse(ref) == IMS_OBS_NAME_OK;
}

enum ims_rc ims_disk_ref_check(const char *ref, struct ims_err *err)
{
    if (!ref || !*ref)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "A disk is empty: give a file's path or bucket:object.");
    if (!ims_text_valid(ref))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "A disk reference is not valid text.");
    if (ref[0] == '/') {
        if (strlen(ref) > PATH_MAX_LEN)
            return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "A disk path is longer than %d bytes.",
                                 PATH_MAX_LEN);
        return IMS_OK;
    }
    enum ims_obs_name_rc nrc = obs_parse(ref);
    if (nrc == IMS_OBS_NAME_NO_SEPARATOR)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057",
                             "Disk '%s' is neither an absolute path nor bucket:object.", ims_compute_shown(ref));
    if (nrc != IMS_OBS_NAME_OK)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0057", "Disk '%s': %s", ims_compute_shown(ref),
                             ims_obs_name_problem(nrc));
    return IMS_OK;
}
