/*
 * reqin_json: a bounded JSON writer for mod_reqin_log.
 *
 * Pure C with no Apache or APR dependency, so that the encoder can be tested on its own
 * (json_check.c). Every function writes into a caller-provided buffer and never past its
 * capacity: a write that does not fit writes nothing (numbers, raw text) or a shorter
 * prefix that ends on a whole character (strings), and says so.
 */
#ifndef REQIN_JSON_H
#define REQIN_JSON_H

#include <stddef.h>

typedef struct {
    char *buf;
    size_t len;
    size_t cap;
} reqin_jbuf;

/* Appends n raw bytes. Returns 1, or 0 (nothing written) when they do not fit. */
int reqin_jb_raw(reqin_jbuf *b, const char *s, size_t n);

/* Appends a decimal integer. Returns 1, or 0 (nothing written) when it does not fit. */
int reqin_jb_u64(reqin_jbuf *b, unsigned long long v);
int reqin_jb_i64(reqin_jbuf *b, long long v);

/*
 * Appends s[0..n) as a JSON string literal (quotes included) using at most max_out bytes
 * and never more than the room left in b. Any byte sequence gives valid JSON:
 *   - '"' and '\\' are escaped, control characters (and DEL) become \b \f \n \r \t or \u00XX;
 *   - well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF) is
 *     copied as is;
 *   - every other byte 0xXY becomes \u00XY, i.e. it is read as ISO-8859-1.
 * When the whole literal does not fit, the longest prefix of whole characters that fits is
 * written, the literal is closed, and *cut is set to 1 (cut may be NULL).
 * Returns 1, or 0 (nothing written) when not even the two quotes fit.
 */
int reqin_jb_str(reqin_jbuf *b, const char *s, size_t n, size_t max_out, int *cut);

/* Length of the longest literal reqin_jb_str can produce for n input bytes. */
#define REQIN_JSON_STR_MAX(n) (6 * (n) + 2)

#endif
