/* SPDX-License-Identifier: Apache-2.0
 * The enumerated list-query parameters (spec/query-enums.tsv; the unit test
 * test_query_enums checks this table against it row by row): the values the
 * reference enumerates for a filter, per API dialect, and the IMS error
 * code of any other value. The parser (image_query.c) refuses values not
 * listed here. */
#include "ims/query.h"

#include <string.h>

#define GLANCE_APIS ((1u << IMS_QUERY_GLANCE) | (1u << IMS_QUERY_GLANCE_V1))
#define IMS_APIS (1u << IMS_QUERY_IMS)
#define ALL_APIS (GLANCE_APIS | IMS_APIS)

static const char *const statuses[] = {"queued", "saving", "deleted", "killed", "active", "pending_delete",
                                       "deactivated", "uploading", "importing", NULL};
static const char *const disk_formats[] = {"zvhd2", "vhd", "zvhd", "raw", "qcow2", "ami", "ari",
                                           "aki", "vhdx", "vmdk", "vdi", "iso", "ploop", NULL};
static const char *const container_formats[] = {"bare", "ami", "ari", "aki", "ovf", "ova", "docker", "compressed",
                                                NULL};
static const char *const imagetypes[] = {"gold", "private", "shared", NULL};
static const char *const booleans[] = {"true", "false", NULL};
static const char *const os_types[] = {"Linux", "Windows", "Other", NULL};
static const char *const platforms[] = {"Windows", "Ubuntu", "Red Hat", "SUSE", "CentOS", "Debian",
                                        "OpenSUSE", "Oracle Linux", "Fedora", "CoreOS", "EulerOS",
                                        "openEuler", "Other", NULL};
static const char *const os_bits[] = {"32", "64", NULL};
static const char *const env_types[] = {"FusionCompute", "Ironic", "DataImage", "IsoImage", NULL};
static const char *const architectures[] = {"x86", "arm", NULL};
static const char *const firmware[] = {"bios", "uefi", NULL};

const struct ims_query_enum ims_query_enums[] = {
    {"status", ALL_APIS, statuses, "IMG.0001"},
    {"disk_format", ALL_APIS, disk_formats, "IMG.0001"},
    {"container_format", ALL_APIS, container_formats, "IMG.0001"},
    {"__imagetype", ALL_APIS, imagetypes, "IMG.0001"},
    {"__isregistered", ALL_APIS, booleans, "IMG.0001"},
    {"__whole_image", IMS_APIS, booleans, "IMG.0001"},
    {"__os_type", ALL_APIS, os_types, "IMG.0122"},
    {"__platform", ALL_APIS, platforms, "IMG.0001"},
    {"__os_bit", ALL_APIS, os_bits, "IMG.0001"},
    {"virtual_env_type", IMS_APIS, env_types, "IMG.0001"},
    {"architecture", IMS_APIS, architectures, "IMG.0212"},
    {"hw_firmware_type", IMS_APIS, firmware, "IMG.0141"},
    {"__support_kvm", ALL_APIS, booleans, "IMG.0001"},
    {"__support_xen", ALL_APIS, booleans, "IMG.0001"},
    {"__support_largememory", ALL_APIS, booleans, "IMG.0001"},
    {"__support_diskintensive", ALL_APIS, booleans, "IMG.0001"},
    {"__support_highperformance", ALL_APIS, booleans, "IMG.0001"},
    {"__support_xen_hana", ALL_APIS, booleans, "IMG.0001"},
    {"__support_kvm_infiniband", ALL_APIS, booleans, "IMG.0001"},
};
const size_t ims_query_nenums = IMS_ARRAY_SIZE(ims_query_enums);

const struct ims_query_enum *ims_query_enum_find(enum ims_query_dialect d, const char *param)
{
    for (size_t i = 0; i < ims_query_nenums; i++)
        if ((ims_query_enums[i].dialects & (1u << d)) && strcmp(ims_query_enums[i].param, param) == 0)
            return &ims_query_enums[i];
    return NULL;
}

bool ims_query_enum_allows(const struct ims_query_enum *e, const char *value)
{
    for (const char *const *v = e->values; *v; v++)
        if (strcmp(*v, value) == 0)
            return true;
    return false;
}
