/* SPDX-License-Identifier: Apache-2.0
 * The job types the engine runs: job_type -> handler. */
#include "jobs-int.h"

const struct ims_job_handler ims_job_handlers[] = {
    /* actions as spec/api-permissions.tsv gives them for the job's route */
    {IMS_JOB_ADD_MEMBERS, ims_job_members_add, NULL, "ims:images:share", false},
    {IMS_JOB_UPDATE_MEMBERS, ims_job_members_update, NULL, "ims:images:share", false},
    {IMS_JOB_DEL_MEMBERS, ims_job_members_delete, NULL, "ims:images:share", false},
    {IMS_JOB_COPY_IN_REGION, ims_job_copy_run, ims_job_copy_abandon, "ims:images:copy", true},
    /* the object-storage action is checked by the handler (project grants only) */
    {IMS_JOB_IMPORT_IMAGE, ims_job_import_run, ims_job_import_abandon, "ims:serverImages:create", true},
    {IMS_JOB_IMPORT_DATA_IMAGE, ims_job_import_run, ims_job_import_abandon, "ims:dataImages:create", true},
    {IMS_JOB_BY_INSTANCE, ims_job_server_image_run, ims_job_server_image_abandon, "ims:serverImages:create", true},
    {IMS_JOB_VOLUMES_TO_DATA, ims_job_server_image_run, ims_job_server_image_abandon, "ims:serverImages:create",
     true},
    {IMS_JOB_VOLUME_TO_SYSTEM, ims_job_server_image_run, ims_job_server_image_abandon, "ims:serverImages:create",
     true},
    /* the backup service's action is checked by the handler (project grants only) */
    {IMS_JOB_WHOLE_BY_INSTANCE, ims_job_whole_image_run, ims_job_whole_image_abandon, "ims:wholeImages:create",
     true},
    {IMS_JOB_WHOLE_BY_BACKUP, ims_job_whole_image_run, ims_job_whole_image_abandon, "ims:wholeImages:create", true},
    {IMS_JOB_NATIVE_IMPORT, ims_job_register_run, NULL, "ims:images:upload", true},
    {IMS_JOB_NATIVE_EXPORT, ims_job_export_run, NULL, "ims:images:export", true},
    /* no action: it only records what the image's own data is (lib/jobs/job_checksum.c) */
    {IMS_JOB_IMAGE_CHECKSUM, ims_job_checksum_run, NULL, NULL, false},
    /* Glance's import task: its routes' actions (lib/api/routes.c) */
    {IMS_JOB_GLANCE_IMPORT, ims_job_glance_import_run, ims_job_glance_import_abandon, "ims:images:upload", false},
};
const size_t ims_job_nhandlers = IMS_ARRAY_SIZE(ims_job_handlers);

bool ims_job_type_known(const char *type)
{
    for (size_t i = 0; i < ims_job_nhandlers; i++)
        if (ims_streq(ims_job_handlers[i].type, type))
            return true;
    return false;
}
