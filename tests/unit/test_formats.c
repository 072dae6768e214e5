/* SPDX-License-Identifier: Apache-2.0
 * The format inspector against real images made by qemu-img at test time
 * (its virtual size is the reference) and against malicious ones: made by
 * qemu-img (backing and data files, external VMDK extents, encryption) or
 * patched byte by byte (paths in descriptors, inconsistent offsets, unknown
 * features, truncation, two formats in one file, wrong declarations). */
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ims/formats.h"
#include "shell.h"

static char dir[64];

static char *path(const char *name)
{
    static char buf[8][256];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
    return buf[i];
}

/* A whole file in memory, to inspect or to patch. */
struct file {
    uint8_t *data;
    size_t len;
};

static struct file load(const char *name)
{
    struct file f = { 0 };
    FILE *fp = fopen(path(name), "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    f.len = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f.data = ims_xmalloc(f.len + 1);
    assert_int_equal(fread(f.data, 1, f.len, fp), f.len);
    fclose(fp);
    return f;
}

static enum ims_rc inspect_mem(const struct file *f, uint64_t limit, struct ims_format_info *info,
                               enum ims_format_refusal *why, struct ims_err *err)
{
    struct ims_format_mem m = { f->data, f->len };
    struct ims_format_source src = { ims_format_mem_read, &m, f->len };
    struct ims_format_limits lim = { .max_virtual_size = limit };
    return ims_format_inspect(&src, &lim, info, why, err);
}

static long fd_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    return pread(*(int *)ctx, buf, len, (off_t)off);
}

/* Inspects a file through pread, as a caller with a file would. */
static enum ims_rc inspect_file(const char *name, uint64_t limit, struct ims_format_info *info,
                                enum ims_format_refusal *why, struct ims_err *err)
{
    int fd = open(path(name), O_RDONLY);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    struct ims_format_source src = { fd_read, &fd, (uint64_t)st.st_size };
    struct ims_format_limits lim = { .max_virtual_size = limit };
    enum ims_rc rc = ims_format_inspect(&src, &lim, info, why, err);
    close(fd);
    return rc;
}

/* qemu-img's own idea of the virtual size, read with an explicit format. */
static uint64_t qemu_vsize(const char *name, const char *qfmt)
{
    sh_ok("qemu-img info --output=json -f %s %s > %s", qfmt, path(name), path("info.json"));
    json_error_t e;
    json_t *j = json_load_file(path("info.json"), 0, &e);
    assert_non_null(j);
    uint64_t v = (uint64_t)json_integer_value(json_object_get(j, "virtual-size"));
    json_decref(j);
    return v;
}

static void expect_refused(enum ims_rc rc, enum ims_format_refusal why, enum ims_format_refusal want,
                           const struct ims_err *err, const char *what)
{
    if (rc == IMS_OK || why != want)
        fail_msg("%s: expected refusal %s, got rc %s refusal %s (%s)", what, ims_format_refusal_name(want),
                 ims_rc_name(rc), ims_format_refusal_name(why), err->msg);
    assert_int_equal(rc, want == IMS_FORMAT_R_READ ? IMS_E_IO : IMS_E_BADREQ);
    assert_true(err->msg[0] != 0);
    assert_null(strchr(err->msg, '/')); /* no paths in what users read */
}

static void refused_file(const char *name, enum ims_format_refusal want)
{
    struct ims_format_info info;
    enum ims_format_refusal why = IMS_FORMAT_ACCEPTED;
    struct ims_err err = { 0 };
    enum ims_rc rc = inspect_file(name, 0, &info, &why, &err);
    expect_refused(rc, why, want, &err, name);
    assert_string_equal(err.code, want == IMS_FORMAT_R_TOO_LARGE ? "IMG.0059" : "IMG.0057");
}

static void refused_mem(const struct file *f, enum ims_format_refusal want, const char *what)
{
    struct ims_format_info info;
    enum ims_format_refusal why = IMS_FORMAT_ACCEPTED;
    struct ims_err err = { 0 };
    enum ims_rc rc = inspect_mem(f, 0, &info, &why, &err);
    expect_refused(rc, why, want, &err, what);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The VHD checksum: ones' complement of the byte sum, its field as 0. */
static void vhd_fix_checksum(uint8_t *p, size_t n, size_t at)
{
    uint32_t sum = 0;
    put_be32(p + at, 0);
    for (size_t i = 0; i < n; i++)
        sum += p[i];
    put_be32(p + at, ~sum);
}

/* CRC-32C, as VHDX checksums its headers (field at `at` counted as 0). */
static void vhdx_fix_checksum(uint8_t *p, size_t n, size_t at)
{
    memset(p + at, 0, 4);
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
    }
    put_le32(p + at, ~crc);
}

static uint32_t get_le32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* The metadata table of a VHDX made by qemu-img: the region table's
 * second entry (qemu-img writes BAT, then metadata). */
static uint8_t *vhdx_metadata(struct file *f)
{
    uint8_t *e = f->data + 192 * 1024 + 16 + 32;
    uint64_t off = get_le32(e + 16) | (uint64_t)get_le32(e + 20) << 32;
    assert_true(off + 65536 <= f->len);
    assert_memory_equal(f->data + off, "metadata", 8);
    return f->data + off;
}

/* A small ISO 9660 image: a primary volume descriptor and a terminator. */
static struct file make_iso(uint32_t blocks, uint32_t file_blocks)
{
    struct file f = { ims_xcalloc(file_blocks, 2048), (size_t)file_blocks * 2048 };
    uint8_t *pvd = f.data + 16 * 2048, *term = pvd + 2048;
    pvd[0] = 1;
    memcpy(pvd + 1, "CD001", 5);
    pvd[6] = 1;
    put_le32(pvd + 80, blocks);
    put_be32(pvd + 84, blocks);
    pvd[128] = 0x00, pvd[129] = 0x08, pvd[130] = 0x08, pvd[131] = 0x00;
    term[0] = 255;
    memcpy(term + 1, "CD001", 5);
    term[6] = 1;
    return f;
}

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/ims-test-formats-XXXXXX");
    assert_non_null(mkdtemp(dir));
    /* 4 MiB of known, mostly non-zero content */
    sh_ok("head -c 4194304 /dev/urandom > %s", path("src.raw"));
    return 0;
}

static int teardown(void **state)
{
    sh_ok("rm -rf %s", dir);
    return 0;
}

struct sample {
    const char *name, *args; /* qemu-img create (with size) or convert from src.raw (size NULL) */
    const char *size;
    enum ims_image_format format;
    const char *variant;
};

static void test_detects_every_format(void **state)
{
    static const struct sample samples[] = {
        { "a.qcow2", "create -f qcow2 -o compat=0.10", "10M", IMS_FORMAT_QCOW2, "v2" },
        { "b.qcow2", "create -f qcow2", "10M", IMS_FORMAT_QCOW2, "v3" },
        { "c.qcow2", "create -f qcow2 -o cluster_size=512", "100M", IMS_FORMAT_QCOW2, "v3" },
        { "d.qcow2", "create -f qcow2 -o cluster_size=2M,extended_l2=on", "3G", IMS_FORMAT_QCOW2, "v3" },
        { "e.qcow2", "convert -f raw -O qcow2 -c", NULL, IMS_FORMAT_QCOW2, "v3" },
        { "f.qcow2", "create -f qcow2 -o compression_type=zstd", "1G", IMS_FORMAT_QCOW2, "v3" },
        { "a.qcow", "create -f qcow", "10M", IMS_FORMAT_QCOW, "v1" },
        { "b.qcow", "convert -f raw -O qcow", NULL, IMS_FORMAT_QCOW, "v1" },
        { "a.vhd", "create -f vpc", "10M", IMS_FORMAT_VHD, "dynamic" },
        { "b.vhd", "create -f vpc -o subformat=fixed", "10M", IMS_FORMAT_VHD, "fixed" },
        { "c.vhd", "convert -f raw -O vpc -o force_size=on", NULL, IMS_FORMAT_VHD, "dynamic" },
        { "d.vhd", "convert -f raw -O vpc -o subformat=fixed,force_size=on", NULL, IMS_FORMAT_VHD, "fixed" },
        { "a.vhdx", "create -f vhdx", "10M", IMS_FORMAT_VHDX, "" },
        { "b.vhdx", "convert -f raw -O vhdx", NULL, IMS_FORMAT_VHDX, "" },
        { "c.vhdx", "create -f vhdx -o block_size=32M,log_size=8M", "100G", IMS_FORMAT_VHDX, "" },
        { "a.vmdk", "create -f vmdk", "10M", IMS_FORMAT_VMDK, "monolithicSparse" },
        { "b.vmdk", "convert -f raw -O vmdk -o subformat=streamOptimized", NULL, IMS_FORMAT_VMDK,
          "streamOptimized" },
        { "c.vmdk", "convert -f raw -O vmdk", NULL, IMS_FORMAT_VMDK, "monolithicSparse" },
        { "a.vdi", "create -f vdi", "10M", IMS_FORMAT_VDI, "dynamic" },
        { "b.vdi", "create -f vdi -o static=on", "5M", IMS_FORMAT_VDI, "fixed" },
        { "c.vdi", "convert -f raw -O vdi", NULL, IMS_FORMAT_VDI, "dynamic" },
        { "a.qed", "create -f qed", "10M", IMS_FORMAT_QED, "" },
        { "b.raw", "create -f raw", "3M", IMS_FORMAT_RAW, "" },
    };
    for (size_t i = 0; i < IMS_ARRAY_SIZE(samples); i++) {
        const struct sample *s = &samples[i];
        if (s->size)
            sh_ok("qemu-img %s -q %s %s", s->args, path(s->name), s->size);
        else
            sh_ok("qemu-img %s %s %s", s->args, path("src.raw"), path(s->name));
        struct ims_format_info info;
        enum ims_format_refusal why;
        struct ims_err err = { 0 };
        enum ims_rc rc = inspect_file(s->name, 0, &info, &why, &err);
        if (rc != IMS_OK)
            fail_msg("%s: refused: %s", s->name, err.msg);
        assert_int_equal(why, IMS_FORMAT_ACCEPTED);
        if (info.format != s->format)
            fail_msg("%s: detected %s", s->name, ims_format_name(info.format));
        assert_string_equal(info.variant, s->variant);
        uint64_t want = qemu_vsize(s->name, ims_format_qemu_name(s->format));
        if (info.virtual_size != want)
            fail_msg("%s: virtual size %llu, qemu-img says %llu", s->name, (unsigned long long)info.virtual_size,
                     (unsigned long long)want);
        assert_int_equal(ims_format_check_declared(ims_format_name(s->format), &info, &why, &err), IMS_OK);
    }
    /* figures known independently of qemu-img */
    struct ims_format_info info;
    enum ims_format_refusal why;
    struct ims_err err = { 0 };
    assert_int_equal(inspect_file("b.qcow2", 0, &info, &why, &err), IMS_OK);
    assert_int_equal(info.virtual_size, 10 << 20);
    assert_int_equal(info.cluster_bits, 16);
    assert_int_equal(inspect_file("c.vhd", 0, &info, &why, &err), IMS_OK);
    assert_int_equal(info.virtual_size, 4 << 20);
    assert_int_equal(inspect_file("a.vhd", 0, &info, &why, &err), IMS_OK);
    assert_int_equal(info.virtual_size, 302 * 4 * 17 * 512); /* the CHS geometry qemu chose for 10M */
    assert_int_equal(inspect_file("c.vhdx", 0, &info, &why, &err), IMS_OK);
    assert_int_equal(info.virtual_size, 100ull << 30);
    assert_int_equal(info.cluster_bits, 25);

    /* ISO, by hand */
    struct file iso = make_iso(20, 20);
    assert_int_equal(inspect_mem(&iso, 0, &info, &why, &err), IMS_OK);
    assert_int_equal(info.format, IMS_FORMAT_ISO);
    assert_int_equal(info.virtual_size, 20 * 2048);
    free(iso.data);
}

static void test_refuses_what_opens_other_files(void **state)
{
    sh_ok("qemu-img create -q -f raw %s 10M", path("base.raw"));
    sh_ok("qemu-img create -q -f qcow2 -b %s -F raw %s", path("base.raw"), path("backing.qcow2"));
    refused_file("backing.qcow2", IMS_FORMAT_R_BACKING_FILE);
    sh_ok("qemu-img create -q -f qcow2 -o compat=0.10 -b %s -F raw %s", path("base.raw"), path("backing2.qcow2"));
    refused_file("backing2.qcow2", IMS_FORMAT_R_BACKING_FILE);
    sh_ok("qemu-img create -q -f qcow2 -o data_file=%s %s 10M", path("data.raw"), path("datafile.qcow2"));
    refused_file("datafile.qcow2", IMS_FORMAT_R_DATA_FILE);
    sh_ok("qemu-img create -q -f qcow2 -o data_file=%s,data_file_raw=on %s 10M", path("data2.raw"),
       path("datafile2.qcow2"));
    refused_file("datafile2.qcow2", IMS_FORMAT_R_DATA_FILE);
    sh_ok("qemu-img create -q -f qcow -b %s -F raw %s", path("base.raw"), path("backing.qcow"));
    refused_file("backing.qcow", IMS_FORMAT_R_BACKING_FILE);
    sh_ok("qemu-img create -q -f qed -b %s -F raw %s", path("base.raw"), path("backing.qed"));
    refused_file("backing.qed", IMS_FORMAT_R_BACKING_FILE);
    sh_ok("qemu-img create -q -f vmdk %s 10M", path("parent.vmdk"));
    sh_ok("qemu-img create -q -f vmdk -b %s -F vmdk %s", path("parent.vmdk"), path("child.vmdk"));
    refused_file("child.vmdk", IMS_FORMAT_R_BACKING_FILE);

    /* VMDK descriptors naming other files */
    sh_ok("qemu-img create -q -f vmdk -o subformat=monolithicFlat %s 10M", path("flat.vmdk"));
    refused_file("flat.vmdk", IMS_FORMAT_R_EXTERNAL_EXTENT);
    sh_ok("qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse %s 10M", path("split.vmdk"));
    refused_file("split.vmdk", IMS_FORMAT_R_EXTERNAL_EXTENT);
    refused_file("split-s001.vmdk", IMS_FORMAT_R_EXTERNAL_EXTENT); /* its embedded descriptor names the set */
    static const char *descriptors[] = {
        "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n"
        "RW 20480 FLAT \"/etc/passwd\" 0\n",
        "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType=\"vmfs\"\n"
        "RW 20480 VMFS \"../../secret.img\"\n",
        "version=1\ncreateType=\"monolithicFlat\"\nRDONLY 8 FLAT \"other.img\" 0\n",
    };
    for (size_t i = 0; i < IMS_ARRAY_SIZE(descriptors); i++) {
        struct file f = { (uint8_t *)ims_xstrdup(descriptors[i]), strlen(descriptors[i]) };
        refused_mem(&f, IMS_FORMAT_R_EXTERNAL_EXTENT, descriptors[i]);
        free(f.data);
    }
    /* a descriptor with only ZERO extents names no file: a valid empty disk */
    static const char zero[] = "# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicFlat\"\nRW 2048 ZERO\n";
    struct file zf = { (uint8_t *)ims_xstrdup(zero), strlen(zero) };
    struct ims_format_info info;
    enum ims_format_refusal why;
    struct ims_err err = { 0 };
    assert_int_equal(inspect_mem(&zf, 0, &info, &why, &err), IMS_OK);
    assert_int_equal(info.virtual_size, 2048 * 512);
    assert_string_equal(info.variant, "descriptor");
    free(zf.data);

    /* monolithicSparse whose embedded descriptor names another file by a
     * relative path, or a second extent */
    sh_ok("qemu-img create -q -f vmdk %s 10M", path("embed.vmdk"));
    static const char *embedded[] = {
        "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType=\"monolithicSparse\"\n"
        "RW 20480 SPARSE \"../embed.vmdk\"\n",
        "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType=\"monolithicSparse\"\n"
        "RW 10240 SPARSE \"embed.vmdk\"\nRW 10240 FLAT \"other.raw\" 0\n",
        "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType=\"monolithicSparse\"\n"
        "RW 20480 FLAT \"embed.vmdk\" 0\n",
    };
    for (size_t i = 0; i < IMS_ARRAY_SIZE(embedded); i++) {
        struct file f = load("embed.vmdk");
        memset(f.data + 512, 0, 20 * 512);
        memcpy(f.data + 512, embedded[i], strlen(embedded[i]));
        refused_mem(&f, IMS_FORMAT_R_EXTERNAL_EXTENT, embedded[i]);
        free(f.data);
    }
    /* a parent named by parentCID alone */
    {
        static const char child[] = "# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=12345678\n"
                                    "createType=\"monolithicSparse\"\nRW 20480 SPARSE \"embed.vmdk\"\n";
        struct file f = load("embed.vmdk");
        memset(f.data + 512, 0, 20 * 512);
        memcpy(f.data + 512, child, strlen(child));
        refused_mem(&f, IMS_FORMAT_R_BACKING_FILE, "vmdk parentCID");
        free(f.data);
    }
    /* the unmodified file passes: the refusals above come from the edits */
    assert_int_equal(inspect_file("embed.vmdk", 0, &info, &why, &err), IMS_OK);
    assert_int_equal(info.format, IMS_FORMAT_VMDK);
}

static void test_refuses_differencing_disks(void **state)
{
    /* VHD: footer disk type 4 (differencing), checksum kept valid */
    sh_ok("qemu-img create -q -f vpc %s 10M", path("diff.vhd"));
    struct file f = load("diff.vhd");
    put_be32(f.data + 60, 4);
    vhd_fix_checksum(f.data, 512, 64);
    refused_mem(&f, IMS_FORMAT_R_BACKING_FILE, "vhd differencing");
    free(f.data);
    /* VDI: a parent UUID */
    sh_ok("qemu-img create -q -f vdi %s 10M", path("diff.vdi"));
    f = load("diff.vdi");
    f.data[0x1b8] = 1;
    refused_mem(&f, IMS_FORMAT_R_BACKING_FILE, "vdi parent");
    free(f.data);
}

static void test_refuses_encryption_and_unknown_features(void **state)
{
    /* crypt_method 1 (AES) and 2 (LUKS): patched in, since creating a LUKS
     * image benchmarks its key derivation, which fails on busy machines */
    sh_ok("qemu-img create -q -f qcow2 %s 10M", path("enc.qcow2"));
    struct file e = load("enc.qcow2");
    for (uint32_t method = 1; method <= 2; method++) {
        put_be32(e.data + 32, method);
        refused_mem(&e, IMS_FORMAT_R_ENCRYPTED, "qcow2 encrypted");
    }
    free(e.data);
    sh_ok("qemu-img create -q -f qcow %s 10M", path("enc.qcow"));
    e = load("enc.qcow");
    put_be32(e.data + 36, 1); /* qcow v1 AES */
    refused_mem(&e, IMS_FORMAT_R_ENCRYPTED, "qcow encrypted");
    free(e.data);

    sh_ok("qemu-img create -q -f qcow2 %s 10M", path("feat.qcow2"));
    struct file f = load("feat.qcow2");
    f.data[72 + 6] |= 0x04; /* incompatible feature bit 10: unknown */
    refused_mem(&f, IMS_FORMAT_R_UNSUPPORTED, "qcow2 unknown incompatible feature");
    f.data[72 + 6] = 0;
    f.data[72 + 7] |= 0x02; /* corrupt bit */
    refused_mem(&f, IMS_FORMAT_R_INCONSISTENT, "qcow2 corrupt");
    f.data[72 + 7] = 0;
    put_be32(f.data + 4, 4); /* version 4 */
    refused_mem(&f, IMS_FORMAT_R_UNSUPPORTED, "qcow2 version 4");
    free(f.data);

    sh_ok("qemu-img create -q -f qed %s 10M", path("feat.qed"));
    f = load("feat.qed");
    f.data[16] |= 0x10; /* unknown feature */
    refused_mem(&f, IMS_FORMAT_R_UNSUPPORTED, "qed unknown feature");
    free(f.data);
}

static void test_refuses_sizes_over_the_limit(void **state)
{
    sh_ok("qemu-img create -q -f qcow2 %s 3T", path("huge.qcow2"));
    refused_file("huge.qcow2", IMS_FORMAT_R_TOO_LARGE);
    sh_ok("qemu-img create -q -f vhdx %s 3T", path("huge.vhdx"));
    refused_file("huge.vhdx", IMS_FORMAT_R_TOO_LARGE);
    /* the caller's limit */
    struct ims_format_info info;
    enum ims_format_refusal why;
    struct ims_err err = { 0 };
    sh_ok("qemu-img create -q -f vmdk %s 1T", path("big.vmdk"));
    assert_int_equal(inspect_file("big.vmdk", 0, &info, &why, &err), IMS_OK);
    assert_int_equal(inspect_file("big.vmdk", 512ull << 30, &info, &why, &err), IMS_E_BADREQ);
    assert_int_equal(why, IMS_FORMAT_R_TOO_LARGE);
    assert_string_equal(err.code, "IMG.0059");
    assert_int_equal(inspect_file("src.raw", 1 << 20, &info, &why, &err), IMS_E_BADREQ);
    assert_int_equal(why, IMS_FORMAT_R_TOO_LARGE);
    /* a qcow2 header claiming 2^63 bytes */
    sh_ok("qemu-img create -q -f qcow2 %s 10M", path("claim.qcow2"));
    struct file f = load("claim.qcow2");
    put_be64(f.data + 24, 1ull << 63);
    refused_mem(&f, IMS_FORMAT_R_TOO_LARGE, "qcow2 2^63");
    free(f.data);
}

static void test_refuses_truncated_headers(void **state)
{
    static const struct {
        const char *format;
        size_t keep;
    } cases[] = {
        { "qcow2", 64 },       /* inside the fixed header */
        { "qcow2", 100000 },   /* header whole, L1 table gone */
        { "vhdx", 200 * 1024 }, /* the region table cut */
        { "vmdk", 300 },        /* inside the sparse header */
        { "vmdk", 2048 },       /* the descriptor cut */
        { "vpc", 1000 },        /* the dynamic header cut */
        { "vdi", 0x100 },       /* inside the header */
        { "qed", 40 },          /* inside the header */
    };
    for (size_t i = 0; i < IMS_ARRAY_SIZE(cases); i++) {
        char name[32];
        snprintf(name, sizeof(name), "trunc%zu", i);
        sh_ok("qemu-img create -q -f %s %s 10M", cases[i].format, path(name));
        struct file f = load(name);
        assert_true(f.len > cases[i].keep);
        f.len = cases[i].keep;
        struct ims_format_info info;
        enum ims_format_refusal why = IMS_FORMAT_ACCEPTED;
        struct ims_err err = { 0 };
        enum ims_rc rc = inspect_mem(&f, 0, &info, &why, &err);
        if (rc == IMS_OK || (why != IMS_FORMAT_R_TRUNCATED && why != IMS_FORMAT_R_INCONSISTENT))
            fail_msg("%s cut at %zu: %s (%s)", cases[i].format, cases[i].keep, ims_format_refusal_name(why),
                     err.msg);
        free(f.data);
    }
    struct file empty = { (uint8_t *)ims_xstrdup(""), 0 };
    refused_mem(&empty, IMS_FORMAT_R_EMPTY, "empty");
    free(empty.data);
}

static void test_refuses_inconsistent_headers(void **state)
{
    sh_ok("qemu-img create -q -f qcow2 %s 10M", path("inc.qcow2"));
    struct file f = load("inc.qcow2");
    uint8_t saved[8];
    memcpy(saved, f.data + 40, 8);
    put_be64(f.data + 40, 1ull << 40); /* L1 table far past the end */
    refused_mem(&f, IMS_FORMAT_R_TRUNCATED, "qcow2 L1 offset");
    put_be64(f.data + 40, 0x30001); /* not cluster aligned */
    refused_mem(&f, IMS_FORMAT_R_INCONSISTENT, "qcow2 L1 alignment");
    memcpy(f.data + 40, saved, 8);
    put_be32(f.data + 36, 0); /* L1 too small for 10M */
    refused_mem(&f, IMS_FORMAT_R_INCONSISTENT, "qcow2 L1 size");
    put_be32(f.data + 36, 1);
    put_be32(f.data + 20, 30); /* cluster_bits 30 */
    refused_mem(&f, IMS_FORMAT_R_INCONSISTENT, "qcow2 cluster bits");
    put_be32(f.data + 20, 16);
    put_be32(f.data + 100, 4096 + 4); /* header length not a multiple of 8 */
    refused_mem(&f, IMS_FORMAT_R_INCONSISTENT, "qcow2 header length");
    free(f.data);

    /* VHD dynamic: block table past the end (header checksum kept valid) */
    sh_ok("qemu-img create -q -f vpc %s 10M", path("inc.vhd"));
    f = load("inc.vhd");
    put_be64(f.data + 512 + 16, 1ull << 40);
    vhd_fix_checksum(f.data + 512, 1024, 36);
    refused_mem(&f, IMS_FORMAT_R_TRUNCATED, "vhd BAT offset");
    free(f.data);
    /* VHD footer checksum wrong */
    f = load("inc.vhd");
    f.data[48] ^= 1;
    refused_mem(&f, IMS_FORMAT_R_INCONSISTENT, "vhd checksum");
    free(f.data);

    /* VDI: block map overlapping the data */
    sh_ok("qemu-img create -q -f vdi %s 10M", path("inc.vdi"));
    f = load("inc.vdi");
    put_le32(f.data + 0x158, 0x200);
    refused_mem(&f, IMS_FORMAT_R_INCONSISTENT, "vdi overlap");
    free(f.data);

    /* VHDX: a region table whose checksum no longer holds */
    sh_ok("qemu-img create -q -f vhdx %s 10M", path("inc.vhdx"));
    f = load("inc.vhdx");
    f.data[192 * 1024 + 16 + 16] ^= 0x10; /* the BAT region's offset */
    refused_mem(&f, IMS_FORMAT_R_INCONSISTENT, "vhdx region checksum");
    free(f.data);

    /* VMDK: descriptor and header disagree on the size */
    sh_ok("qemu-img create -q -f vmdk %s 10M", path("inc.vmdk"));
    f = load("inc.vmdk");
    f.data[12] = 0x00, f.data[13] = 0x60; /* capacity 0x6000 sectors, descriptor says 20480 */
    refused_mem(&f, IMS_FORMAT_R_INCONSISTENT, "vmdk capacity");
    free(f.data);

    /* ISO: a volume larger than the file, fields that disagree */
    struct file iso = make_iso(40, 20);
    refused_mem(&iso, IMS_FORMAT_R_TRUNCATED, "iso volume size");
    put_be32(iso.data + 16 * 2048 + 84, 19);
    refused_mem(&iso, IMS_FORMAT_R_INCONSISTENT, "iso both-endian");
    free(iso.data);
}

static void test_refuses_two_formats_in_one(void **state)
{
    sh_ok("qemu-img create -q -f qcow2 %s 10M", path("poly.qcow2"));
    struct file f = load("poly.qcow2");
    memcpy(f.data + 32768 + 1, "CD001", 5);
    refused_mem(&f, IMS_FORMAT_R_AMBIGUOUS, "qcow2 + iso");
    free(f.data);
    /* a VMDK descriptor's text in an ISO's system area */
    struct file iso = make_iso(20, 20);
    memcpy(iso.data, "version=1\n", 10);
    refused_mem(&iso, IMS_FORMAT_R_AMBIGUOUS, "iso + vmdk descriptor");
    free(iso.data);
    /* a fixed-VHD footer at the end of a qcow2: refused too, although it
     * could be guest data in the last cluster, because a file kept as it
     * is (quick import) must not be one format to one tool and another to
     * the next */
    sh_ok("qemu-img create -q -f vpc -o subformat=fixed %s 1M", path("tail.vhd"));
    struct file vhd = load("tail.vhd");
    f = load("poly.qcow2");
    memcpy(f.data + f.len - 512, vhd.data + vhd.len - 512, 512);
    refused_mem(&f, IMS_FORMAT_R_AMBIGUOUS, "qcow2 + vhd footer");
    free(f.data);
    /* alone it is a fixed VHD */
    struct ims_format_info info;
    enum ims_format_refusal why;
    struct ims_err err = { 0 };
    assert_int_equal(inspect_mem(&vhd, 0, &info, &why, &err), IMS_OK);
    assert_int_equal(info.format, IMS_FORMAT_VHD);
    assert_string_equal(info.variant, "fixed");
    free(vhd.data);
}

static void test_declared_and_detected(void **state)
{
    static const struct {
        enum ims_image_format detected;
        const char *declared;
        enum ims_format_refusal want;
    } cases[] = {
        { IMS_FORMAT_QCOW2, "raw", IMS_FORMAT_R_MISMATCH },
        { IMS_FORMAT_ISO, "qcow2", IMS_FORMAT_R_MISMATCH },
        { IMS_FORMAT_RAW, "vhd", IMS_FORMAT_R_MISMATCH },
        { IMS_FORMAT_RAW, "iso", IMS_FORMAT_R_MISMATCH },
        { IMS_FORMAT_VMDK, "vhd", IMS_FORMAT_R_MISMATCH },
        { IMS_FORMAT_RAW, "zvhd", IMS_FORMAT_R_MISMATCH },
        { IMS_FORMAT_ISO, "zvhd2", IMS_FORMAT_R_MISMATCH },
        { IMS_FORMAT_QCOW2, "qcow2", IMS_FORMAT_ACCEPTED },
        { IMS_FORMAT_QCOW2, "QCOW2", IMS_FORMAT_ACCEPTED },
        { IMS_FORMAT_VHD, "vhd", IMS_FORMAT_ACCEPTED },
        { IMS_FORMAT_VHD, "zvhd", IMS_FORMAT_ACCEPTED },
        { IMS_FORMAT_QCOW2, "zvhd2", IMS_FORMAT_ACCEPTED },
        { IMS_FORMAT_QCOW, "qcow", IMS_FORMAT_ACCEPTED },
        { IMS_FORMAT_QCOW, "qcow2", IMS_FORMAT_R_MISMATCH },
        { IMS_FORMAT_QCOW2, "qcow", IMS_FORMAT_R_MISMATCH },
        { IMS_FORMAT_ISO, "iso", IMS_FORMAT_ACCEPTED },
        { IMS_FORMAT_ISO, "raw", IMS_FORMAT_ACCEPTED },
        { IMS_FORMAT_RAW, "ami", IMS_FORMAT_ACCEPTED },
        { IMS_FORMAT_RAW, "foo", IMS_FORMAT_R_UNKNOWN_DECLARED },
        { IMS_FORMAT_RAW, "", IMS_FORMAT_R_UNKNOWN_DECLARED },
    };
    for (size_t i = 0; i < IMS_ARRAY_SIZE(cases); i++) {
        struct ims_format_info info = { .format = cases[i].detected, .virtual_size = 1 };
        enum ims_format_refusal why = 99;
        struct ims_err err = { 0 };
        enum ims_rc rc = ims_format_check_declared(cases[i].declared, &info, &why, &err);
        if (why != cases[i].want)
            fail_msg("%s declared as %s: %s", ims_format_name(cases[i].detected), cases[i].declared,
                     ims_format_refusal_name(why));
        assert_int_equal(rc, cases[i].want == IMS_FORMAT_ACCEPTED ? IMS_OK : IMS_E_BADREQ);
        if (cases[i].want != IMS_FORMAT_ACCEPTED)
            assert_string_equal(err.code, cases[i].want == IMS_FORMAT_R_MISMATCH ? "IMG.0057" : "IMG.0072");
    }
    /* end to end: a real qcow2 declared as raw */
    sh_ok("qemu-img create -q -f qcow2 %s 1M", path("decl.qcow2"));
    struct ims_format_info info;
    enum ims_format_refusal why;
    struct ims_err err = { 0 };
    assert_int_equal(inspect_file("decl.qcow2", 0, &info, &why, &err), IMS_OK);
    assert_int_equal(ims_format_check_declared("raw", &info, &why, &err), IMS_E_BADREQ);
    assert_int_equal(why, IMS_FORMAT_R_MISMATCH);
}

static void test_vhdx_parents_logs_and_unknown_items(void **state)
{
    static const uint8_t parent_locator[16] = { 0x2d, 0x5f, 0xd3, 0xa8, 0x0b, 0xb3, 0x4d, 0x45,
                                                0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c };
    sh_ok("qemu-img create -q -f vhdx %s 10M", path("p.vhdx"));
    /* the file parameters' has-parent flag */
    struct file f = load("p.vhdx");
    uint8_t *meta = vhdx_metadata(&f);
    assert_int_equal(get_le32(meta + 32 + 16), 65536); /* file parameters item, first entry */
    meta[65536 + 4] |= 2;
    refused_mem(&f, IMS_FORMAT_R_BACKING_FILE, "vhdx has-parent flag");
    free(f.data);
    /* a parent locator item (in place of the page 83 item, third entry) */
    f = load("p.vhdx");
    meta = vhdx_metadata(&f);
    memcpy(meta + 32 + 2 * 32, parent_locator, 16);
    refused_mem(&f, IMS_FORMAT_R_BACKING_FILE, "vhdx parent locator");
    /* an unknown item marked required */
    meta[32 + 2 * 32] ^= 0xff;
    refused_mem(&f, IMS_FORMAT_R_UNSUPPORTED, "vhdx unknown required item");
    /* the same item not required is ignored */
    put_le32(meta + 32 + 2 * 32 + 24, 0);
    struct ims_format_info info;
    enum ims_format_refusal why;
    struct ims_err err = { 0 };
    assert_int_equal(inspect_mem(&f, 0, &info, &why, &err), IMS_OK);
    free(f.data);
    /* a log to replay, in both headers (checksums kept valid) */
    f = load("p.vhdx");
    for (size_t h = 64 * 1024; h <= 128 * 1024; h += 64 * 1024) {
        f.data[h + 48] = 0x42;
        vhdx_fix_checksum(f.data + h, 4096, 4);
    }
    refused_mem(&f, IMS_FORMAT_R_UNSUPPORTED, "vhdx log");
    /* both headers' checksums broken */
    f.data[64 * 1024 + 8] ^= 1;
    f.data[128 * 1024 + 8] ^= 1;
    refused_mem(&f, IMS_FORMAT_R_INCONSISTENT, "vhdx headers");
    free(f.data);
}

/* A streamOptimized VMDK whose grain directory is in a footer (as VMware
 * writes them): qemu-img reads it, so must the inspector; a broken footer
 * refuses. */
static void test_vmdk_footer(void **state)
{
    sh_ok("qemu-img convert -f raw -O vmdk -o subformat=streamOptimized %s %s", path("src.raw"), path("foot.vmdk"));
    struct file f = load("foot.vmdk");
    size_t len = f.len + 1536;
    uint8_t *d = ims_xcalloc(1, len);
    memcpy(d, f.data, f.len);
    uint8_t *footer = d + f.len;
    put_le32(footer + 12, 3);          /* footer marker: type 3 */
    memcpy(footer + 512, f.data, 512); /* the header again, with the real grain directory */
    memset(d + 56, 0xff, 8);           /* the header's grain directory: at the end */
    free(f.data);
    FILE *fp = fopen(path("foot2.vmdk"), "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(d, 1, len, fp), len);
    fclose(fp);
    /* qemu-img agrees the file is sound and holds the source */
    sh_ok("qemu-img compare -q -f raw -F vmdk %s %s", path("src.raw"), path("foot2.vmdk"));
    struct ims_format_info info;
    enum ims_format_refusal why;
    struct ims_err err = { 0 };
    if (inspect_file("foot2.vmdk", 0, &info, &why, &err) != IMS_OK)
        fail_msg("footer vmdk refused: %s", err.msg);
    assert_string_equal(info.variant, "streamOptimized");
    assert_int_equal(info.virtual_size, 4 << 20);
    struct file g = { d, len };
    put_le32(d + len - 1536 + 12, 2); /* not a footer marker */
    refused_mem(&g, IMS_FORMAT_R_INCONSISTENT, "vmdk footer marker");
    put_le32(d + len - 1536 + 12, 3);
    memset(d + len - 1024 + 56, 0xff, 8); /* the footer itself says "at the end" */
    refused_mem(&g, IMS_FORMAT_R_INCONSISTENT, "vmdk footer without directory");
    free(d);
}

static long failing_read(void *ctx, uint64_t off, void *buf, size_t len) { return -1; }

/* One byte per call: the inspector must loop, not take a short read as the end. */
static long trickle_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    return ims_format_mem_read(ctx, off, buf, len ? 1 : 0);
}

static void test_readers(void **state)
{
    struct ims_format_info info;
    enum ims_format_refusal why;
    struct ims_err err = { 0 };
    struct ims_format_source bad = { failing_read, NULL, 1 << 20 };
    assert_int_equal(ims_format_inspect(&bad, NULL, &info, &why, &err), IMS_E_IO);
    assert_int_equal(why, IMS_FORMAT_R_READ);

    sh_ok("qemu-img create -q -f qcow2 %s 10M", path("trickle.qcow2"));
    struct file f = load("trickle.qcow2");
    struct ims_format_mem m = { f.data, f.len };
    struct ims_format_source slow = { trickle_read, &m, f.len };
    assert_int_equal(ims_format_inspect(&slow, NULL, &info, &why, &err), IMS_OK);
    assert_int_equal(info.format, IMS_FORMAT_QCOW2);
    assert_int_equal(info.virtual_size, 10 << 20);
    free(f.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detects_every_format),
        cmocka_unit_test(test_refuses_what_opens_other_files),
        cmocka_unit_test(test_refuses_differencing_disks),
        cmocka_unit_test(test_refuses_encryption_and_unknown_features),
        cmocka_unit_test(test_refuses_sizes_over_the_limit),
        cmocka_unit_test(test_refuses_truncated_headers),
        cmocka_unit_test(test_refuses_inconsistent_headers),
        cmocka_unit_test(test_refuses_two_formats_in_one),
        cmocka_unit_test(test_vhdx_parents_logs_and_unknown_items),
        cmocka_unit_test(test_vmdk_footer),
        cmocka_unit_test(test_declared_and_detected),
        cmocka_unit_test(test_readers),
    };
    return cmocka_run_group_tests_name("formats", tests, setup, teardown);
}
