/* SPDX-License-Identifier: Apache-2.0
 * Glance v2 JSON schemas. glanceclient builds its models from these and
 * validates every image it prints against IMAGE_SCHEMA, so each attribute we
 * return must be described here with its exact type. */
#include <pthread.h>
#include <string.h>

#include "api-int.h"

#define UUID_PATTERN                                                                                               \
    "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"

#define RO_STRING(name, desc) "\"" name "\": {\"type\": \"string\", \"readOnly\": true, \"description\": \"" desc "\"}"
#define NULLABLE_STRING(name, desc)                                                                                \
    "\"" name "\": {\"type\": [\"null\", \"string\"], \"description\": \"" desc "\"}"

#define IMAGE_SCHEMA                                                                                               \
    "{\"name\": \"image\", \"properties\": {"                                                                     \
    "\"id\": {\"type\": \"string\", \"description\": \"An identifier for the image\", \"pattern\": \"" UUID_PATTERN \
    "\"},"                                                                                                         \
    "\"name\": {\"type\": [\"null\", \"string\"], \"description\": \"Descriptive name for the image\", "           \
    "\"maxLength\": 255},"                                                                                         \
    "\"status\": {\"type\": \"string\", \"readOnly\": true, \"description\": \"Status of the image\", "            \
    "\"enum\": [\"queued\", \"saving\", \"active\", \"killed\", \"deleted\", \"uploading\", \"importing\", "        \
    "\"pending_delete\", \"deactivated\"]},"                                                                       \
    "\"visibility\": {\"type\": \"string\", \"description\": \"Scope of image accessibility\", "                   \
    "\"enum\": [\"community\", \"public\", \"private\", \"shared\"]},"                                             \
    "\"protected\": {\"type\": \"boolean\", \"description\": \"If true, image will not be deletable.\"},"         \
    "\"os_hidden\": {\"type\": \"boolean\", \"description\": \"If true, image will not appear in default image "  \
    "list response.\"},"                                                                                           \
    "\"checksum\": {\"type\": [\"null\", \"string\"], \"readOnly\": true, \"description\": \"md5 hash of image "   \
    "contents.\", \"maxLength\": 32},"                                                                             \
    "\"os_hash_algo\": {\"type\": [\"null\", \"string\"], \"readOnly\": true, \"description\": \"Algorithm to "    \
    "calculate the os_hash_value\", \"maxLength\": 64},"                                                          \
    "\"os_hash_value\": {\"type\": [\"null\", \"string\"], \"readOnly\": true, \"description\": \"Hexdigest of "   \
    "the image contents using the algorithm specified by the os_hash_algo\", \"maxLength\": 128},"                 \
    "\"owner\": {\"type\": [\"null\", \"string\"], \"description\": \"Owner of the image\", \"maxLength\": 255},"  \
    "\"size\": {\"type\": [\"null\", \"integer\"], \"readOnly\": true, \"description\": \"Size of image file in "  \
    "bytes\"},"                                                                                                    \
    "\"virtual_size\": {\"type\": [\"null\", \"integer\"], \"readOnly\": true, \"description\": \"Virtual size "   \
    "of image in bytes\"},"                                                                                        \
    "\"container_format\": {\"type\": [\"null\", \"string\"], \"description\": \"Format of the container\", "      \
    "\"enum\": [null, \"ami\", \"ari\", \"aki\", \"bare\", \"ovf\", \"ova\", \"docker\", \"compressed\"]},"       \
    "\"disk_format\": {\"type\": [\"null\", \"string\"], \"description\": \"Format of the disk\", "                \
    "\"enum\": [null, \"ami\", \"ari\", \"aki\", \"vhd\", \"vhdx\", \"vmdk\", \"raw\", \"qcow2\", \"vdi\", "        \
    "\"iso\", \"ploop\", \"zvhd\", \"zvhd2\"]},"                                                                   \
    RO_STRING("created_at", "Date and time of image registration") ","                                            \
    RO_STRING("updated_at", "Date and time of the last image modification") ","                                   \
    "\"tags\": {\"type\": \"array\", \"description\": \"List of strings related to the image\", "                 \
    "\"items\": {\"type\": \"string\", \"maxLength\": 255}},"                                                      \
    RO_STRING("direct_url", "URL to access the image file kept in external store") ","                            \
    "\"locations\": {\"type\": \"array\", \"description\": \"A set of URLs to access the image file kept in "    \
    "external store\", \"items\": {\"type\": \"object\", \"properties\": {\"url\": {\"type\": \"string\", "     \
    "\"maxLength\": 255}, \"metadata\": {\"type\": \"object\"}, \"validation_data\": {\"type\": \"object\"}}, "  \
    "\"required\": [\"url\", \"metadata\"]}},"                            \
    "\"min_ram\": {\"type\": \"integer\", \"description\": \"Amount of ram (in MB) required to boot image.\"},"  \
    "\"min_disk\": {\"type\": \"integer\", \"description\": \"Amount of disk space (in GB) required to boot "     \
    "image.\"},"                                                                                                   \
    RO_STRING("self", "An image self url") "," RO_STRING("file", "An image file url") ","                          \
    RO_STRING("schema", "An image schema url") ","                                                                 \
    "\"enterprise_project_id\": {\"type\": \"string\", \"description\": \"Enterprise project of the image; 0 is "  \
    "the default one\"},"                                                                                          \
    NULLABLE_STRING("__os_version", "Operating system version") ","                                               \
    NULLABLE_STRING("__platform", "Operating system platform") ","                                                \
    NULLABLE_STRING("__os_type", "Operating system type: Linux, Windows or Other") ","                            \
    NULLABLE_STRING("__os_bit", "Operating system architecture: 32 or 64") ","                                    \
    NULLABLE_STRING("__imagetype", "Image type: gold, private or shared") ","                                     \
    NULLABLE_STRING("__isregistered", "Whether the image is registered") ","                                      \
    NULLABLE_STRING("virtual_env_type", "FusionCompute, Ironic, DataImage or IsoImage") ","                       \
    NULLABLE_STRING("__description", "Supplementary information about the image")                                 \
    "}, \"additionalProperties\": {\"type\": \"string\"}, "                                                        \
    "\"links\": [{\"rel\": \"self\", \"href\": \"{self}\"}, {\"rel\": \"enclosure\", \"href\": \"{file}\"}, "      \
    "{\"rel\": \"describedby\", \"href\": \"{schema}\"}]}"

#define MEMBER_SCHEMA                                                                                              \
    "{\"name\": \"member\", \"properties\": {"                                                                    \
    "\"created_at\": {\"type\": \"string\", \"description\": \"Date and time of image member creation\"},"       \
    "\"image_id\": {\"type\": \"string\", \"description\": \"An identifier for the image\", \"pattern\": \""      \
    UUID_PATTERN "\"},"                                                                                            \
    "\"member_id\": {\"type\": \"string\", \"description\": \"An identifier for the image member (tenantId)\"},"  \
    "\"schema\": {\"type\": \"string\", \"readOnly\": true},"                                                     \
    "\"status\": {\"type\": \"string\", \"description\": \"The status of this image member\", "                   \
    "\"enum\": [\"pending\", \"accepted\", \"rejected\"]},"                                                        \
    "\"updated_at\": {\"type\": \"string\", \"description\": \"Date and time of last modification of image "      \
    "member\"}}}"

static const char image_schema[] = IMAGE_SCHEMA;
static const char images_schema[] =
    "{\"name\": \"images\", \"properties\": {\"images\": {\"type\": \"array\", \"items\": " IMAGE_SCHEMA "}, "
    "\"schema\": {\"type\": \"string\"}, \"first\": {\"type\": \"string\"}, \"next\": {\"type\": \"string\"}}, "
    "\"links\": [{\"rel\": \"first\", \"href\": \"{first}\"}, {\"rel\": \"next\", \"href\": \"{next}\"}, "
    "{\"rel\": \"describedby\", \"href\": \"{schema}\"}]}";
static const char member_schema[] = MEMBER_SCHEMA;
static const char members_schema[] =
    "{\"name\": \"members\", \"properties\": {\"members\": {\"type\": \"array\", \"items\": " MEMBER_SCHEMA "}, "
    "\"schema\": {\"type\": \"string\"}}, "
    "\"links\": [{\"rel\": \"self\", \"href\": \"{self}\"}, {\"rel\": \"describedby\", \"href\": \"{schema}\"}]}";

void api_schema_image(struct ims_request *req) { ims_resp_json(req, 200, image_schema, strlen(image_schema)); }
void api_schema_images(struct ims_request *req) { ims_resp_json(req, 200, images_schema, strlen(images_schema)); }
void api_schema_member(struct ims_request *req) { ims_resp_json(req, 200, member_schema, strlen(member_schema)); }
void api_schema_members(struct ims_request *req)
{
    ims_resp_json(req, 200, members_schema, strlen(members_schema));
}

/* The metadata definition schemas, as Glance 25 serves them
 * (data/metadefs_schemas.json, compiled in): parsed once, each kept as
 * the text of its response. */
extern const char ims_metadefs_schemas_json[];
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static json_t *md_schemas; /* name -> schema text (JSON string) */

static void md_load(void)
{
    json_t *all = json_loads(ims_metadefs_schemas_json, 0, NULL);
    md_schemas = json_object();
    const char *name;
    json_t *v;
    json_object_foreach(all, name, v)
    {
        char *s = json_dumps(v, JSON_PRESERVE_ORDER | JSON_COMPACT);
        if (s)
            json_object_set_new(md_schemas, name, json_string(s));
        free(s);
    }
    json_decref(all);
}

void api_schema_metadefs(struct ims_request *req)
{
    pthread_once(&md_once, md_load);
    const char *s = json_string_value(json_object_get(md_schemas, ims_req_param(req, 0)));
    if (!s) {
        ims_http_error(req, 404, "The resource could not be found.");
        return;
    }
    ims_resp_json(req, 200, s, strlen(s));
}

/* Glance 25's task schemas (glance/api/v2/tasks.py: the task, and the list's
 * partial task without input, result and message). */
static const char task_schema[] =
    "{\"name\": \"task\", \"properties\": {\"id\": {\"description\": \"An identifier for the tas"
    "k\", \"pattern\": \"^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]"
    "){4}-([0-9a-fA-F]){12}$\", \"type\": \"string\"}, \"type\": {\"description\": \"The type o"
    "f task represented by this content\", \"enum\": [\"import\", \"api_image_import\"], \"ty"
    "pe\": \"string\"}, \"status\": {\"description\": \"The current status of this task\", \"en"
    "um\": [\"pending\", \"processing\", \"success\", \"failure\"], \"type\": \"string\"}, \"input\""
    ": {\"description\": \"The parameters required by task, JSON blob\", \"type\": [\"null\","
    " \"object\"]}, \"result\": {\"description\": \"The result of current task, JSON blob\", "
    "\"type\": [\"null\", \"object\"]}, \"owner\": {\"description\": \"An identifier for the own"
    "er of this task\", \"type\": \"string\"}, \"message\": {\"description\": \"Human-readable "
    "informative message only included when appropriate (usually on failure)\", \"type\""
    ": \"string\"}, \"image_id\": {\"description\": \"Image associated with the task\", \"type"
    "\": \"string\"}, \"request_id\": {\"description\": \"Human-readable informative request-"
    "id\", \"type\": \"string\"}, \"user_id\": {\"description\": \"User associated with the tas"
    "k\", \"type\": \"string\"}, \"expires_at\": {\"description\": \"Datetime when this resourc"
    "e would be subject to removal\", \"type\": [\"null\", \"string\"]}, \"created_at\": {\"des"
    "cription\": \"Datetime when this resource was created\", \"type\": \"string\"}, \"update"
    "d_at\": {\"description\": \"Datetime when this resource was updated\", \"type\": \"strin"
    "g\"}, \"self\": {\"readOnly\": true, \"type\": \"string\"}, \"schema\": {\"readOnly\": true, "
    "\"type\": \"string\"}}, \"additionalProperties\": false}";
static const char tasks_schema[] =
    "{\"name\": \"tasks\", \"properties\": {\"tasks\": {\"type\": \"array\", \"items\": {\"name\": \"t"
    "ask\", \"properties\": {\"id\": {\"description\": \"An identifier for the task\", \"patter"
    "n\": \"^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a"
    "-fA-F]){12}$\", \"type\": \"string\"}, \"type\": {\"description\": \"The type of task repr"
    "esented by this content\", \"enum\": [\"import\", \"api_image_import\"], \"type\": \"strin"
    "g\"}, \"status\": {\"description\": \"The current status of this task\", \"enum\": [\"pend"
    "ing\", \"processing\", \"success\", \"failure\"], \"type\": \"string\"}, \"owner\": {\"descrip"
    "tion\": \"An identifier for the owner of this task\", \"type\": \"string\"}, \"image_id\""
    ": {\"description\": \"Image associated with the task\", \"type\": \"string\"}, \"request_"
    "id\": {\"description\": \"Human-readable informative request-id\", \"type\": \"string\"},"
    " \"user_id\": {\"description\": \"User associated with the task\", \"type\": \"string\"}, "
    "\"expires_at\": {\"description\": \"Datetime when this resource would be subject to r"
    "emoval\", \"type\": [\"null\", \"string\"]}, \"created_at\": {\"description\": \"Datetime wh"
    "en this resource was created\", \"type\": \"string\"}, \"updated_at\": {\"description\": "
    "\"Datetime when this resource was updated\", \"type\": \"string\"}, \"self\": {\"readOnly"
    "\": true, \"type\": \"string\"}, \"schema\": {\"readOnly\": true, \"type\": \"string\"}}, \"ad"
    "ditionalProperties\": false}}, \"first\": {\"type\": \"string\"}, \"next\": {\"type\": \"str"
    "ing\"}, \"schema\": {\"type\": \"string\"}}, \"links\": [{\"rel\": \"first\", \"href\": \"{first"
    "}\"}, {\"rel\": \"next\", \"href\": \"{next}\"}, {\"rel\": \"describedby\", \"href\": \"{schema}"
    "\"}]}";

void api_schema_task(struct ims_request *req) { ims_resp_json(req, 200, task_schema, strlen(task_schema)); }
void api_schema_tasks(struct ims_request *req) { ims_resp_json(req, 200, tasks_schema, strlen(tasks_schema)); }
