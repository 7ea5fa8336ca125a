/*
 * json_check: drives the reqin_json encoder from the test suite.
 * Each input line is "<max_out> <hex bytes>"; each output line is the JSON literal
 * reqin_jb_str produced, a space, and 1 when it was cut (else 0), or "-" when nothing fit.
 */
#include "reqin_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hex_value(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int main(void)
{
    static char line[1 << 20];
    static char bytes[1 << 19];
    static char out[REQIN_JSON_STR_MAX(1 << 19)];

    while (fgets(line, sizeof(line), stdin) != NULL) {
        char *sp = strchr(line, ' ');
        size_t n = 0;
        const char *h;
        reqin_jbuf b;
        int cut = 0;
        unsigned long max_out = strtoul(line, NULL, 10);

        h = sp != NULL ? sp + 1 : "";
        while (hex_value(h[0]) >= 0 && hex_value(h[1]) >= 0 && n < sizeof(bytes)) {
            bytes[n++] = (char)(hex_value(h[0]) * 16 + hex_value(h[1]));
            h += 2;
        }
        b.buf = out;
        b.len = 0;
        b.cap = sizeof(out);
        if (!reqin_jb_str(&b, bytes, n, max_out, &cut)) {
            fputs("-\n", stdout);
            continue;
        }
        fwrite(out, 1, b.len, stdout);
        printf(" %d\n", cut);
    }
    return 0;
}
