/* Messages on stderr (always one line, "forget: ...") and the small JSON writer of --json. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

/* Prints a message with control characters (a newline inside a library detail message, a file
 * name) replaced by blanks, so every error stays on one line. */
static void put_one_line(const char *s)
{
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 ? ' ' : *s, stderr);
}

static void vprint_line(const char *fmt, va_list ap)
{
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    put_one_line(buf);
}

void cli_error(const char *fmt, ...)
{
    fputs("forget: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    vprint_line(fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_lib_error(lf_status status, const char *fmt, ...)
{
    /* The detail message is valid only until the next library call: copy it first. */
    char detail[1024];
    snprintf(detail, sizeof detail, "%s", lf_last_error_message());
    fputs("forget: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    vprint_line(fmt, ap);
    va_end(ap);
    fprintf(stderr, ": %s: ", lf_status_name(status));
    put_one_line(detail[0] ? detail : lf_strerror(status));
    fputc('\n', stderr);
    return CLI_EXIT_RUNTIME;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    fputs("forget: ", stderr);
    if (command)
        fprintf(stderr, "%s: ", command);
    va_list ap;
    va_start(ap, fmt);
    vprint_line(fmt, ap);
    va_end(ap);
    if (command)
        fprintf(stderr, " (see 'forget help %s')\n", command);
    else
        fputs(" (see 'forget help')\n", stderr);
    return CLI_EXIT_USAGE;
}

void cli_format_number(char buf[CLI_NUMBER_LEN], double v)
{
    /* The shorter of 15 or 17 digits that reads back exactly: 87.23, not 87.230000000000004. */
    snprintf(buf, CLI_NUMBER_LEN, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, CLI_NUMBER_LEN, "%.17g", v);
}

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);   /* UTF-8 passes through as is */
    }
    fputc('"', out);
}

/* ---- one flat JSON object: {"key": value, ...} ---- */

static void json_key(cli_json *j, const char *key)
{
    fputs(j->fields++ ? ", " : "", j->out);
    json_string(j->out, key);
    fputs(": ", j->out);
}

void cli_json_begin(cli_json *j, FILE *out)
{
    j->out = out;
    j->fields = 0;
    fputc('{', out);
}

void cli_json_str(cli_json *j, const char *key, const char *value)
{
    json_key(j, key);
    if (value)
        json_string(j->out, value);
    else
        fputs("null", j->out);
}

void cli_json_num(cli_json *j, const char *key, double value)
{
    json_key(j, key);
    if (!isfinite(value)) {   /* JSON has no NaN or infinity */
        fputs("null", j->out);
        return;
    }
    char buf[CLI_NUMBER_LEN];
    cli_format_number(buf, value);
    fputs(buf, j->out);
}

void cli_json_int(cli_json *j, const char *key, long long value)
{
    json_key(j, key);
    fprintf(j->out, "%lld", value);
}

void cli_json_uint(cli_json *j, const char *key, unsigned long long value)
{
    json_key(j, key);
    fprintf(j->out, "%llu", value);
}

void cli_json_end(cli_json *j)
{
    fputs("}\n", j->out);
    fflush(j->out);
}
