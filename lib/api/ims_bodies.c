/* SPDX-License-Identifier: Apache-2.0
 * The request bodies of the IMS calls that run as jobs, as pure parsers:
 * batch sharing (POST/PUT/DELETE /v1/cloudimages/members) and replication
 * within a region (POST /v1/cloudimages/{image_id}/copy). A refusal is
 * IMS_E_BADREQ with the IMS error code in err (the IMS routes answer
 * with it); no request, no service, so fuzz/fuzz_ims_bodies.c runs them on
 * arbitrary bytes. */
#include <stdio.h>
#include <string.h>

#include "api-int.h"
#include "ims/auth.h"
#include "ims/copy.h"
#include "ims/image.h"
#include "ims/jobs.h"

#define BATCH_IMAGES_MAX 100
#define BATCH_PROJECTS_MAX 256

/* A JSON array of 1..max distinct non-empty strings of at most maxlen
 * characters (duplicates dropped), or NULL after filling err. */
static json_t *string_set(json_t *body, const char *key, size_t max, size_t maxlen, bool uuid, struct ims_err *err)
{
    json_t *a = json_object_get(body, key);
    if (!json_is_array(a) || json_array_size(a) == 0) {
        ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'%s' must be a non-empty array of strings.", key);
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        if (!s || !*s || strlen(s) > maxlen) {
            ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'%s' must hold strings of 1 to %zu characters.", key,
                          maxlen);
            json_decref(out);
            return NULL;
        }
        if (uuid && !ims_uuid_valid(s)) {
            ims_fail_code(err, IMS_E_BADREQ, "IMG.0066", "The image ID %.64s is incorrect.", s);
            json_decref(out);
            return NULL;
        }
        bool seen = false;
        size_t k;
        json_t *o;
        json_array_foreach(out, k, o) seen = seen || strcmp(json_string_value(o), s) == 0;
        if (!seen)
            json_array_append_new(out, json_string(s));
    }
    if (json_array_size(out) > max) {
        ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "At most %zu entries are allowed in '%s'.", max, key);
        json_decref(out);
        return NULL;
    }
    return out;
}

/* Whether every entry is a well-formed project id (the entry is not echoed). */
static bool projects_valid(json_t *projects, struct ims_err *err)
{
    size_t i;
    json_t *v;
    json_array_foreach(projects, i, v)
    {
        if (!ims_project_id_valid(json_string_value(v))) {
            ims_fail_code(err, IMS_E_BADREQ, "IMG.0067",
                          "The project ID is incorrect: 'projects' must hold project IDs.");
            return false;
        }
    }
    return true;
}

enum ims_rc api_ims_members_parse(const char *data, size_t len, enum ims_method m, const char *caller_project,
                                  const char **ret_type, json_t **ret_input, struct ims_err *err)
{
    if (!len)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0007", "The request body is empty.");
    json_error_t je;
    json_t *body = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!body)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "Malformed JSON in request body: %s (line %d, column %d).",
                             je.text, je.line, je.column);
    json_t *input = NULL, *images = NULL, *projects = NULL;
    const char *type = NULL;
    if (!json_is_object(body)) {
        ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "The request body must be a JSON object.");
        goto out;
    }
    if (!(images = string_set(body, "images", BATCH_IMAGES_MAX, IMS_UUID_LEN, true, err)))
        goto out;
    if (m == IMS_PUT) {
        type = IMS_JOB_UPDATE_MEMBERS;
        const char *project = json_string_value(json_object_get(body, "project_id"));
        const char *status = json_string_value(json_object_get(body, "status"));
        json_t *vault = json_object_get(body, "vault_id");
        if (!project || !*project || strlen(project) > IMS_ID_MAX) {
            ims_fail_code(err, IMS_E_BADREQ, "IMG.0067", "'project_id' must be the ID of your project.");
            goto out;
        }
        if (!ims_streq(project, caller_project)) {
            ims_fail_code(err, IMS_E_BADREQ, "IMG.0067",
                          "Only the recipient project (the one of your token) may accept or reject images shared "
                          "with it.");
            goto out;
        }
        if (!ims_streq(status, "accepted") && !ims_streq(status, "rejected")) {
            ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'status' must be accepted or rejected.");
            goto out;
        }
        if (vault && !json_is_string(vault)) {
            ims_fail_code(err, IMS_E_BADREQ, "IMG.0001", "'vault_id' must be a string.");
            goto out;
        }
        input = json_pack("{s:O,s:s,s:s}", "images", images, "project_id", project, "status", status);
        if (vault)
            json_object_set(input, "vault_id", vault);
    } else {
        type = m == IMS_POST ? IMS_JOB_ADD_MEMBERS : IMS_JOB_DEL_MEMBERS;
        if (!(projects = string_set(body, "projects", BATCH_PROJECTS_MAX, IMS_ID_MAX, false, err)))
            goto out;
        if (!projects_valid(projects, err))
            goto out;
        if (m == IMS_POST && json_array_size(projects) == 1 &&
            ims_streq(json_string_value(json_array_get(projects, 0)), caller_project)) {
            ims_fail_code(err, IMS_E_BADREQ, "IMG.0076", "You cannot share an image with yourself.");
            goto out;
        }
        input = json_pack("{s:O,s:O}", "images", images, "projects", projects);
    }
out:
    json_decref(images);
    json_decref(projects);
    json_decref(body);
    if (!input)
        return IMS_E_BADREQ;
    *ret_type = type;
    *ret_input = input;
    return IMS_OK;
}

enum ims_rc api_ims_copy_parse(json_t *body, struct ims_copy_spec *ret, struct ims_err *err)
{
    json_t *jname = json_object_get(body, "name"), *jdesc = json_object_get(body, "description");
    json_t *jep = json_object_get(body, "enterprise_project_id"), *jcmk = json_object_get(body, "cmk_id");
    const char *name = json_string_value(jname), *desc = json_string_value(jdesc);
    if (jname && !name)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0003", "The image name must be a string.");
    if (!name || !*name)
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0013", "The image name is not specified.");
    enum ims_rc rc = ims_image_name_check(name, IMS_NAMES_IMS, err);
    if (rc != IMS_OK)
        return rc;
    if ((jdesc && !json_is_null(jdesc) && !desc) || (desc && strlen(desc) > 1024))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0004",
                             "The description must be a string of at most 1024 characters.");
    if (desc && strpbrk(desc, "<>\r\n"))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0054",
                             "The image description may not contain angle brackets or line breaks.");
    if (jep && !json_is_null(jep) && !json_is_string(jep))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0155", "'enterprise_project_id' must be a string.");
    if (jcmk && !json_is_null(jcmk) && (!json_is_string(jcmk) || *json_string_value(jcmk)))
        return ims_fail_code(err, IMS_E_BADREQ, "IMG.0095",
                             "The KMS key does not exist (this deployment has no key management service).");
    const char *ep = json_string_value(jep);
    *ret = (struct ims_copy_spec){.name = name, .description = desc, .enterprise_project_id = ep && *ep ? ep : "0"};
    return IMS_OK;
}
