/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target: the JSON writer. Any bytes written as a string (and as a
 * key) make JSON that jansson's strict parser (which refuses invalid UTF-8)
 * accepts; valid UTF-8 comes back unchanged. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ims/json_writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* jansson accepts valid UTF-8 only: what it refuses as a string must
     * still be written as valid JSON, with U+FFFD in place of bad bytes. */
    json_t *probe = json_stringn((const char *)data, size);
    bool valid = probe != NULL;
    json_decref(probe);
    char *key = ims_xstrndup((const char *)data, size);
    /* The input as a key too, unless it would collide with the fixed keys. */
    bool as_key = !memchr(data, 0, size) && strcmp(key, "s") != 0 && strcmp(key, "a") != 0;
    struct ims_buf b;
    ims_buf_init(&b, 1 << 24);
    struct ims_jw w;
    ims_jw_init(&w, &b);
    ims_jw_obj_begin(&w);
    ims_jw_key(&w, "s");
    ims_jw_strn(&w, (const char *)data, size);
    if (as_key)
        ims_jw_kint(&w, key, (int64_t)size);
    ims_jw_key(&w, "a");
    ims_jw_arr_begin(&w);
    ims_jw_null(&w);
    ims_jw_bool(&w, true);
    ims_jw_arr_end(&w);
    ims_jw_obj_end(&w);
    json_error_t je;
    json_t *v = json_loadb(b.data, b.len, JSON_ALLOW_NUL, &je);
    if (!v)
        abort();
    json_t *s = json_object_get(v, "s");
    if (!json_is_string(s))
        abort();
    if (valid && ( json_string_length(s) != size || memcmp(json_string_value(s), data, size) != 0))
        abort();
    if (valid && as_key && json_integer_value(json_object_get(v, key)) != (json_int_t)size)
        abort();
    json_decref(v);
    ims_buf_release(&b);
    free(key);
    return 0;
}
