/* SPDX-License-Identifier: Apache-2.0
 * libvirt is loaded when a libvirt compute source opens, not linked into
 * the programs: libvirt.so and the 18 libraries only it needs (GLib, GIO,
 * libssh, libnl, ...) were 3.6 MiB of every imsd's RSS from its start,
 * whatever compute source it ran with (bench/README.md, Run CO). The
 * functions the source calls are looked up once, all of them, so a
 * libvirt without one fails the open, never a later call. */
#include <dlfcn.h>
#include <pthread.h>

#include "libvirt-int.h"

struct ims_lv_api ims_lv;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[256]; /* empty: loaded */

static void load(void)
{
    void *h = dlopen(IMS_LV_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(load_error, sizeof(load_error), "%s", dlerror());
        return;
    }
#define IMS_LV_RESOLVE(f)                                                                                              \
    if (!(*(void **)&ims_lv.f = dlsym(h, #f)) && !load_error[0])                                                       \
        snprintf(load_error, sizeof(load_error), "%s has no %s", IMS_LV_SONAME, #f);
    IMS_LV_FUNCTIONS(IMS_LV_RESOLVE)
#undef IMS_LV_RESOLVE
    /* never closed: the handle lives as long as the process */
}

enum ims_rc ims_lv_load(struct ims_err *err)
{
    pthread_once(&load_once, load);
    return load_error[0] ? ims_fail(err, IMS_E_IO, "cannot load libvirt: %s", load_error) : IMS_OK;
}
