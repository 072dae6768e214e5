/* SPDX-License-Identifier: Apache-2.0
 * The S3 backend's XML readers: a ListObjectsV2 page (entities, character
 * references, truncation token), error documents, and refusals: values
 * that do not fit, bad references, control characters, markup inside a
 * value, keys no call could name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ims/obs.h"

static const char list_page[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bkt</Name><Prefix></Prefix>"
    "<KeyCount>4</KeyCount><MaxKeys>4</MaxKeys><IsTruncated>true</IsTruncated>"
    "<NextContinuationToken>tok&amp;en/==</NextContinuationToken>"
    "<Contents><Key>a &amp; b &lt;c&gt;.img</Key><LastModified>2026-11-27T10:00:00.000Z</LastModified>"
    "<ETag>&quot;0123&quot;</ETag><Size>1234</Size><StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>caf&#233;/&#x65E5;.raw</Key><Size>0</Size></Contents>"
    "<Contents><Key>folder/</Key><Size>0</Size></Contents>"
    "<Contents><Key>x/../y</Key><Size>1</Size></Contents>"
    "</ListBucketResult>";

static void test_list_page(void **state)
{
    (void)state;
    struct ims_obs_listing l;
    struct ims_err e = {0};
    assert_int_equal(ims_obs_s3_parse_list(list_page, strlen(list_page), &l, &e), IMS_OBS_OK);
    /* "folder/" and "x/../y" are no valid keys: left out */
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0].key, "a & b <c>.img");
    assert_int_equal(l.items[0].size, 1234);
    assert_int_equal(l.items[0].mtime, 1795773600);
    assert_string_equal(l.items[1].key, "caf\xc3\xa9/\xe6\x97\xa5.raw");
    assert_true(l.truncated);
    assert_string_equal(l.next, "tok&en/==");
    ims_obs_listing_release(&l);

    const char *last = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
    assert_int_equal(ims_obs_s3_parse_list(last, strlen(last), &l, &e), IMS_OBS_OK);
    assert_int_equal(l.n, 0);
    assert_false(l.truncated);
    assert_null(l.next);
    ims_obs_listing_release(&l);
}

static void test_list_refusals(void **state)
{
    (void)state;
    struct ims_obs_listing l;
    struct ims_err e = {0};
    const char *bad[] = {
        "<Error><Code>x</Code></Error>",                                          /* no result */
        "<ListBucketResult><Contents><Key>a</Key></Contents></ListBucketResult>", /* no size */
        "<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size>1x</Size></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>", /* no token */
        "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>a&#0;</NextContinuationToken>"
        "</ListBucketResult>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ims_obs_s3_parse_list(bad[i], strlen(bad[i]), &l, &e), IMS_OBS_IO);
}

static void test_values(void **state)
{
    (void)state;
    char out[16];
    const char *doc = "<A>x&#x41;&#66;&apos;</A><B>0123456789abcdef</B><C>a<b>c</b></C><D>&bogus;</D>"
                      "<E>&#xD800;</E><F>&#x110000;</F><G>a&#10;b</G><H>\x01</H><I>&#</I><J></J>";
    size_t n = strlen(doc);
    assert_true(ims_obs_s3_xml_value(doc, n, "A", out, sizeof(out)));
    assert_string_equal(out, "xAB'");
    /* 16 bytes need 17 with the NUL: refused, never cut */
    assert_false(ims_obs_s3_xml_value(doc, n, "B", out, sizeof(out)));
    assert_false(ims_obs_s3_xml_value(doc, n, "C", out, sizeof(out)));
    assert_false(ims_obs_s3_xml_value(doc, n, "D", out, sizeof(out)));
    assert_false(ims_obs_s3_xml_value(doc, n, "E", out, sizeof(out)));
    assert_false(ims_obs_s3_xml_value(doc, n, "F", out, sizeof(out)));
    assert_false(ims_obs_s3_xml_value(doc, n, "G", out, sizeof(out))); /* a control character */
    assert_false(ims_obs_s3_xml_value(doc, n, "H", out, sizeof(out)));
    assert_false(ims_obs_s3_xml_value(doc, n, "I", out, sizeof(out)));
    assert_true(ims_obs_s3_xml_value(doc, n, "J", out, sizeof(out)));
    assert_string_equal(out, "");
    assert_false(ims_obs_s3_xml_value(doc, n, "Missing", out, sizeof(out)));
    assert_false(ims_obs_s3_xml_value("<A>unclosed", 11, "A", out, sizeof(out)));
    assert_false(ims_obs_s3_xml_value(doc, n, "A", out, 0));
}

static void test_error_document(void **state)
{
    (void)state;
    const char *doc = "<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>SignatureDoesNotMatch</Code>"
                      "<Message>The request signature we calculated does not match the signature you provided."
                      "</Message><RequestId>tx1</RequestId></Error>";
    char code[64], msg[256];
    assert_true(ims_obs_s3_parse_error(doc, strlen(doc), code, sizeof(code), msg, sizeof(msg)));
    assert_string_equal(code, "SignatureDoesNotMatch");
    assert_true(strstr(msg, "does not match") != NULL);
    const char *nomsg = "<Error><Code>NoSuchKey</Code></Error>";
    assert_true(ims_obs_s3_parse_error(nomsg, strlen(nomsg), code, sizeof(code), msg, sizeof(msg)));
    assert_string_equal(code, "NoSuchKey");
    assert_string_equal(msg, "");
    assert_false(ims_obs_s3_parse_error("<html>502</html>", 16, code, sizeof(code), msg, sizeof(msg)));
    char tiny[4];
    assert_false(ims_obs_s3_parse_error(nomsg, strlen(nomsg), tiny, sizeof(tiny), msg, sizeof(msg)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_page),
        cmocka_unit_test(test_list_refusals),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_error_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
