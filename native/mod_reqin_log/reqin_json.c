/* reqin_json: see reqin_json.h. */
#include "reqin_json.h"

#include <string.h>

static const char hex_digits[] = "0123456789abcdef";

/* 1 for bytes copied as they are: printable ASCII except '"' and '\\'. */
static const unsigned char plain[256] = {
    ['\x20'] = 1, 1, 0 /* " */, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* \\ */, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* DEL */,
};

int reqin_jb_raw(reqin_jbuf *b, const char *s, size_t n)
{
    if (b->cap - b->len < n) {
        return 0;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    return 1;
}

static int put_decimal(reqin_jbuf *b, unsigned long long v, int negative)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + (v % 10));
        v /= 10;
    } while (v != 0);
    if (negative) {
        tmp[--i] = '-';
    }
    return reqin_jb_raw(b, tmp + i, sizeof(tmp) - i);
}

int reqin_jb_u64(reqin_jbuf *b, unsigned long long v)
{
    return put_decimal(b, v, 0);
}

int reqin_jb_i64(reqin_jbuf *b, long long v)
{
    return v < 0 ? put_decimal(b, 0ULL - (unsigned long long)v, 1) : put_decimal(b, (unsigned long long)v, 0);
}

/*
 * Length of the well-formed UTF-8 sequence starting at s (n bytes available), or 0 when
 * the byte at s does not start one. Table 3-7 of the Unicode standard.
 */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c >= 0xC2 && c <= 0xDF) {
        return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = 0x80, hi = 0xBF;
        if (c == 0xE0) {
            lo = 0xA0;          /* no overlong forms */
        }
        else if (c == 0xED) {
            hi = 0x9F;          /* no surrogates */
        }
        return (n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = 0x80, hi = 0xBF;
        if (c == 0xF0) {
            lo = 0x90;          /* no overlong forms */
        }
        else if (c == 0xF4) {
            hi = 0x8F;          /* nothing above U+10FFFF */
        }
        return (n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80
                && (s[3] & 0xC0) == 0x80) ? 4 : 0;
    }
    return 0;
}

int reqin_jb_str(reqin_jbuf *b, const char *s, size_t n, size_t max_out, int *cut)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t room = b->cap - b->len;
    size_t i = 0;
    char *out;
    size_t o = 0;
    size_t limit;

    if (room > max_out) {
        room = max_out;
    }
    if (room < 2) {
        return 0;
    }
    out = b->buf + b->len;
    limit = room - 1;           /* keep one byte for the closing quote */
    out[o++] = '"';
    while (i < n) {
        unsigned char c = p[i];
        char esc[6];
        const char *piece = esc;
        size_t plen;
        size_t adv = 1;

        if (plain[c]) {
            /* A run of plain bytes is copied at once: most of a header is such a run. */
            size_t run = 1;
            while (i + run < n && plain[p[i + run]]) {
                run++;
            }
            if (o + run > limit) {
                run = limit - o;
                memcpy(out + o, p + i, run);
                o += run;
                i += run;
                break;
            }
            memcpy(out + o, p + i, run);
            o += run;
            i += run;
            continue;
        }
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            plen = 2;
        }
        else if (c < 0x20 || c == 0x7F) {
            esc[0] = '\\';
            switch (c) {
            case '\b': esc[1] = 'b'; plen = 2; break;
            case '\f': esc[1] = 'f'; plen = 2; break;
            case '\n': esc[1] = 'n'; plen = 2; break;
            case '\r': esc[1] = 'r'; plen = 2; break;
            case '\t': esc[1] = 't'; plen = 2; break;
            default:
                esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
                esc[4] = hex_digits[c >> 4]; esc[5] = hex_digits[c & 0xF];
                plen = 6;
                break;
            }
        }
        else {
            size_t seq = utf8_seq_len(p + i, n - i);
            if (seq > 0) {
                piece = (const char *)(p + i);
                plen = seq;
                adv = seq;
            }
            else {
                /* Not UTF-8: keep the byte's value as a Latin-1 code point. */
                esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
                esc[4] = hex_digits[c >> 4]; esc[5] = hex_digits[c & 0xF];
                plen = 6;
            }
        }
        if (o + plen > limit) {
            break;
        }
        memcpy(out + o, piece, plen);
        o += plen;
        i += adv;
    }
    out[o++] = '"';
    b->len += o;
    if (cut != NULL && i < n) {
        *cut = 1;
    }
    return 1;
}
