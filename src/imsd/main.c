/* SPDX-License-Identifier: Apache-2.0
 * imsd: wires configuration, the service and the HTTP server together, then
 * waits for SIGTERM/SIGINT and drains in-flight requests before exiting. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/backends.h"
#include "../common/settings.h"
#include "ims/api.h"
#include "ims/backends.h"
#include "ims/config.h"
#include "ims/jobs.h"
#include "ims/service.h"

static void usage(FILE *out)
{
    fprintf(out, "Usage: imsd [options]\n\n"
                 "The Image Management Service daemon: IMS and OpenStack Image (Glance v2) APIs with a\n"
                 "Keystone v3 token API, on one port. The first start initialises the data dir (database,\n"
                 "image files, token key) and an admin account, and prints its credentials.\n\n"
                 "Options:\n"
                 "  -c, --config FILE     INI configuration file (also IMSD_CONFIG)\n"
                 "  -l, --listen H:P      listen address (also IMSD_LISTEN)\n"
                 "  -d, --data-dir DIR    data directory (also IMSD_DATA_DIR)\n"
                 "  -t, --threads N       HTTP threads, 0 = one per core (also IMSD_THREADS)\n"
                 "  -w, --workers N       asynchronous job worker threads ([jobs] workers, IMSD_JOB_WORKERS)\n"
                 "  -h, --help            this help\n\n");
    ims_settings_help(out);
    fprintf(out, "\nSignals: SIGTERM/SIGINT stop accepting, let in-flight requests finish (drain_timeout_ms), then\n"
                 "stop the job workers (a running job ends its current step and is resumed at the next start), exit 0.\n");
    fprintf(out, "\nTest hook: IMSD_TEST_JOB_DELAY_MS=N makes every job step pause N ms (to observe running jobs,\n"
                 "interrupt them and check that they resume). IMSD_TEST_SUBMIT_DELAY_MS=N pauses N ms between a\n"
                 "request's checks and the recording of its job (to race concurrent requests). Never set them in\n"
                 "production.\n");
}

static enum ims_log_level log_level(const char *s)
{
    if (ims_streq(s, "debug"))
        return IMS_LOG_DEBUG;
    if (ims_streq(s, "warning"))
        return IMS_LOG_WARN;
    if (ims_streq(s, "error"))
        return IMS_LOG_ERROR;
    return IMS_LOG_INFO;
}

/* Keeps the admin credentials beside the data, readable by root only, so
 * every start can print how to log in (a devstack-style openrc). */
static void write_openrc(const struct ims_config *cfg, const char *url, const char *password)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/admin-openrc.sh", cfg->data_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        ims_warn("cannot write %s: %s", path, strerror(errno));
        return;
    }
    FILE *f = fdopen(fd, "w");
    fprintf(f, "export OS_AUTH_URL=%s/v3\nexport OS_IDENTITY_API_VERSION=3\nexport OS_IMAGE_API_VERSION=2\n"
               "export OS_USERNAME=admin\nexport OS_PASSWORD='%s'\nexport OS_PROJECT_NAME=admin\n"
               "export OS_USER_DOMAIN_NAME=Default\nexport OS_PROJECT_DOMAIN_NAME=Default\nexport OS_REGION_NAME=%s\n",
            url, password, cfg->region);
    fclose(f);
}

/* The password is printed only by the start that set it: later starts
 * would put it in every log; they point at the owner-only openrc file. */
static void announce(const struct ims_config *cfg, const char *url, const char *new_password)
{
    printf("imsd is running: %s (Ctrl-C or SIGTERM stops it)\n", url);
    printf("  identity (Keystone v3): %s/v3   image (Glance v2): %s/v2\n", url, url);
    printf("  credentials file (mode 0600): %s/admin-openrc.sh\n", cfg->data_dir);
    if (new_password) {
        printf("  admin: user admin, domain Default, project admin, password %s (printed this once)\n",
               new_password);
        printf("  try: openstack --os-auth-url %s/v3 --os-identity-api-version 3 --os-username admin "
               "--os-password '%s' --os-project-name admin --os-user-domain-name Default --os-project-domain-name "
               "Default image list\n",
               url, new_password);
    } else {
        printf("  admin: user admin, domain Default, project admin; the password is in the credentials file\n");
        printf("  try: . %s/admin-openrc.sh && openstack image list\n", cfg->data_dir);
    }
    fflush(stdout);
}

/* Every login hashes with argon2id, which takes 19 MiB (lib/auth/password.c)
 * on a deferred thread. glibc maps an allocation that large on its own, but
 * after the first one is freed it raises its mmap threshold to that size, so
 * every later hash came from the thread's arena and stayed resident when
 * freed: 19 MiB kept per deferred thread, RSS 65 MiB after a few logins
 * with an idle catalog (bench/README.md, the memory run). A fixed threshold
 * ends the raising: allocations of 4 MiB and more (the hashes, S3 part
 * buffers) are mapped and given back on free; request buffers stay below.
 * A fixed mmap threshold also leaves the trim threshold at its 128 KiB
 * default (glibc raised it with the other): a list page's buffers, a few
 * hundred KiB freed at the top of the thread's heap, were given back
 * (madvise) after every request and faulted in again by the next one (5.7
 * faults and a third of the CPU of a page of 25, bench/README.md). Up to
 * 4 MiB of free heap top is kept per arena instead. */
static void give_back_large_allocations(void)
{
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 4 << 20);
}

int main(int argc, char **argv)
{
    give_back_large_allocations();
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"listen", required_argument, NULL, 'l'},
        {"data-dir", required_argument, NULL, 'd'}, {"threads", required_argument, NULL, 't'},
        {"workers", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *listen = NULL, *data_dir = NULL, *threads = NULL, *workers = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "c:l:d:t:w:h", opts, NULL)) != -1) {
        switch (o) {
        case 'c': config = optarg; break;
        case 'l': listen = optarg; break;
        case 'd': data_dir = optarg; break;
        case 't': threads = optarg; break;
        case 'w': workers = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "imsd: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    struct ims_config cfg;
    char err[512];
    if (ims_settings_load(&cfg, config, err, sizeof(err)) ||
        (listen && ims_settings_set(&cfg, "server", "listen", listen, err, sizeof(err))) ||
        (data_dir && ims_settings_set(&cfg, "storage", "data_dir", data_dir, err, sizeof(err))) ||
        (threads && ims_settings_set(&cfg, "server", "threads", threads, err, sizeof(err))) ||
        (workers && ims_settings_set(&cfg, "jobs", "workers", workers, err, sizeof(err)))) {
        fprintf(stderr, "imsd: %s\n", err);
        ims_settings_release(&cfg);
        return 2;
    }
    ims_log_set_level(log_level(cfg.log_level));
    signal(SIGPIPE, SIG_IGN);

    struct ims_backends be;
    cfg.store_probe_at_open = true; /* imsd takes uploads: its first one does not wait for the probe */
    if (ims_backends_open(&cfg, &be, err, sizeof(err))) {
        fprintf(stderr, "imsd: %s\n", err);
        ims_settings_release(&cfg);
        return 1;
    }
    struct ims_service *svc;
    struct ims_err e = {0};
    cfg.cache_prefetch = true; /* the daemon fills queued images; imsctl never does */
    if (ims_service_open(&cfg, &be, &svc, &e) != IMS_OK) {
        fprintf(stderr, "imsd: %s\n", e.msg);
        ims_backends_close(&be);
        ims_settings_release(&cfg);
        return 1;
    }
    char *password = NULL;
    if (ims_service_bootstrap(svc, cfg.admin_password, &password, &e) != IMS_OK) {
        fprintf(stderr, "imsd: initialisation failed: %s\n", e.msg);
        ims_service_close(svc);
        ims_backends_close(&be);
        return 1;
    }

    /* Block the stop signals before any thread starts, so only sigwait
     * below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    char host[256];
    unsigned port;
    ims_listen_split(cfg.listen, host, sizeof(host), &port);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    bool remote_io = cfg.obs_backend && ims_streq(cfg.obs_backend, "s3");
    for (size_t i = 0; i < be.nstores; i++)
        remote_io = remote_io || !ims_store_is_local(be.stores[i]);
    bool on_loop = be.sql == &ims_sqlite_ops;
    struct ims_http_config hc = {.host = host, .port = port,
                                 .threads = cfg.http_threads ? cfg.http_threads : (unsigned)(cores > 0 ? cores : 1),
                                 .connection_limit = cfg.connection_limit,
                                 .address_connection_limit = cfg.address_connection_limit,
                                 .connection_memory = (size_t)cfg.connection_memory_kib * 1024,
                                 .connection_timeout = cfg.connection_timeout,
                                 .head_timeout = cfg.head_timeout,
                                 .body_timeout = cfg.body_timeout,
                                 .deferred_threads = cfg.deferred_threads,
                                 .deferred_max = cfg.deferred_max,
                                 .deferred_priority = (int)cfg.deferred_priority,
                                 /* SQLite answers in microseconds: its handlers stay on the event loop */
                                 .handler_threads = on_loop ? 0 : cfg.handler_threads,
                                 /* except creates: waiting on a pool, several share a commit */
                                 .commit_threads = on_loop ? cfg.handler_threads : 0,
                                 /* and handlers that wait on a remote store or [obs] (S3) */
                                 .remote_threads = on_loop && remote_io ? cfg.handler_threads : 0};
    struct ims_http_app app;
    ims_api_app_init(&app, svc);
    struct ims_http_server *srv;
    if (ims_http_start(&hc, &app, &srv, &e) != IMS_OK) {
        fprintf(stderr, "imsd: %s\n", e.msg);
        ims_service_close(svc);
        ims_backends_close(&be);
        return 1;
    }
    char url[300];
    if (cfg.public_url && *cfg.public_url)
        snprintf(url, sizeof(url), "%s", cfg.public_url);
    else
        snprintf(url, sizeof(url), "http://%s:%u", host, ims_http_port(srv));
    if (password)
        write_openrc(&cfg, url, password);
    /* Job workers: after the service is open and listening; their lease
     * keeper also resumes jobs a previous run left behind. */
    int64_t delay_ms = 0;
    const char *delay = getenv("IMSD_TEST_JOB_DELAY_MS");
    if (delay && *delay && !ims_parse_i64(delay, 0, 3600000, &delay_ms))
        ims_warn("IMSD_TEST_JOB_DELAY_MS='%s' ignored (expected milliseconds)", delay);
    int64_t write_delay_ms = 0;
    const char *wdelay = getenv("IMSD_TEST_CACHE_WRITE_DELAY_MS");
    if (wdelay && *wdelay && !ims_parse_i64(wdelay, 0, 60000, &write_delay_ms))
        ims_warn("IMSD_TEST_CACHE_WRITE_DELAY_MS='%s' ignored (expected milliseconds)", wdelay);
    ims_cache_filler_test_delay((int)write_delay_ms);
    int64_t submit_delay_ms = 0;
    const char *sdelay = getenv("IMSD_TEST_SUBMIT_DELAY_MS");
    if (sdelay && *sdelay && !ims_parse_i64(sdelay, 0, 60000, &submit_delay_ms))
        ims_warn("IMSD_TEST_SUBMIT_DELAY_MS='%s' ignored (expected milliseconds)", sdelay);
    struct ims_jobs_config jc = {.workers = cfg.job_workers, .lease_ms = cfg.job_lease_seconds * 1000,
                                 .retention_seconds = cfg.job_retention_seconds, .step_delay_ms = delay_ms,
                                 .submit_delay_ms = submit_delay_ms, .max_attempts = 3};
    struct ims_jobs *jobs = NULL;
    if (ims_jobs_start(svc, &jc, &jobs, &e) != IMS_OK) {
        fprintf(stderr, "imsd: %s\n", e.msg);
        ims_http_stop(srv, 0);
        ims_service_close(svc);
        ims_backends_close(&be);
        return 1;
    }
    announce(&cfg, url, password);
    free(password);
    ims_info("listening on %s with %u thread(s), data in %s", url, hc.threads, cfg.data_dir);

    int sig = 0;
    sigwait(&stop, &sig);
    ims_info("%s received: draining %u in-flight request(s)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
             ims_http_inflight(srv));
    ims_http_stop(srv, cfg.drain_timeout_ms);
    ims_jobs_stop(jobs);
    ims_service_close(svc);
    ims_backends_close(&be);
    ims_settings_release(&cfg);
    ims_info("stopped");
    return 0;
}
