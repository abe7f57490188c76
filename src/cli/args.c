/* Command-line options: strict number parsing and a small table-driven parser, so every
 * sub-command validates its arguments the same way and shows them the same way in its usage. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* strtol/strtod skip leading blanks and accept a sign; a value must start with a digit, a sign
 * or a dot, so " 5" and "" are refused. */
static int starts_like_a_number(const char *text)
{
    return text[0] != '\0' && !isspace((unsigned char)text[0]);
}

int cli_parse_i32(const char *text, int32_t *out)
{
    if (!starts_like_a_number(text))
        return 0;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < INT32_MIN || v > INT32_MAX)
        return 0;
    *out = (int32_t)v;
    return 1;
}

int cli_parse_u64(const char *text, uint64_t *out)
{
    /* strtoull accepts "-1" (and wraps it), so only digits are let through. */
    if (!isdigit((unsigned char)text[0]))
        return 0;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return 0;
    *out = (uint64_t)v;
    return 1;
}

int cli_parse_double(const char *text, double *out)
{
    if (!starts_like_a_number(text))
        return 0;
    errno = 0;
    char *end = NULL;
    double v = strtod(text, &end);
    /* ERANGE with a tiny result is a harmless underflow; an overflow gives ±HUGE_VAL. */
    if (*end != '\0' || !isfinite(v) || (errno == ERANGE && fabs(v) > 1.0))
        return 0;
    *out = v;
    return 1;
}

static const cli_option *find_option(const cli_option *options, const char *name, size_t len)
{
    for (const cli_option *o = options; o->name; o++) {
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
        if (o->alias && strlen(o->alias) == len && strncmp(o->alias, name, len) == 0)
            return o;
    }
    return NULL;
}

/* Checks and stores one option's value. */
static int store_value(const char *command, const cli_option *o, const char *value)
{
    switch (o->type) {
    case CLI_OPT_STRING:
        if (value[0] == '\0')
            return cli_usage_error(command, "%s: the value is empty", o->name);
        *(const char **)o->dest = value;
        return CLI_EXIT_OK;
    case CLI_OPT_INT: {
        int32_t v;
        if (!cli_parse_i32(value, &v))
            return cli_usage_error(command, "%s: '%s' is not an integer", o->name, value);
        if (v < o->min || v > o->max)
            return cli_usage_error(command, "%s: %d is out of range (must be in [%.0f, %.0f])", o->name,
                                   (int)v, o->min, o->max);
        *(int32_t *)o->dest = v;
        return CLI_EXIT_OK;
    }
    case CLI_OPT_U64: {
        uint64_t v;
        if (!cli_parse_u64(value, &v))
            return cli_usage_error(command, "%s: '%s' is not a non-negative integer", o->name, value);
        *(uint64_t *)o->dest = v;
        return CLI_EXIT_OK;
    }
    case CLI_OPT_DOUBLE: {
        double v;
        if (!cli_parse_double(value, &v))
            return cli_usage_error(command, "%s: '%s' is not a finite number", o->name, value);
        int below = (o->open & CLI_MIN_OPEN) ? v <= o->min : v < o->min;
        int above = (o->open & CLI_MAX_OPEN) ? v >= o->max : v > o->max;
        if (below || above)
            return cli_usage_error(command, "%s: %s is out of range (must be in %c%g, %g%c)", o->name,
                                   value, (o->open & CLI_MIN_OPEN) ? '(' : '[', o->min, o->max,
                                   (o->open & CLI_MAX_OPEN) ? ')' : ']');
        *(double *)o->dest = v;
        return CLI_EXIT_OK;
    }
    case CLI_OPT_LIST: {
        cli_string_list *list = o->dest;
        if (value[0] == '\0')
            return cli_usage_error(command, "%s: the value is empty", o->name);
        if (list->n == CLI_LIST_MAX)
            return cli_usage_error(command, "%s: more than %d of them", o->name, CLI_LIST_MAX);
        list->items[list->n++] = value;
        return CLI_EXIT_OK;
    }
    case CLI_OPT_FLAG:
        break;
    }
    return cli_usage_error(command, "%s: internal error: bad option type", o->name);
}

int cli_parse(const char *command, int argc, char **argv, const cli_option *options)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0')
            return cli_usage_error(command, "unexpected argument '%s'", arg);
        /* --name=value */
        const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        const cli_option *o = find_option(options, arg, name_len);
        if (!o)
            return cli_usage_error(command, "unknown option '%.*s'", (int)name_len, arg);
        if (o->type == CLI_OPT_FLAG) {
            if (eq)
                return cli_usage_error(command, "%s takes no value", o->name);
            *(int *)o->dest = 1;
            continue;
        }
        const char *value = NULL;
        if (eq)
            value = eq + 1;
        else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
            value = argv[++i];   /* "--x" after an option is the next option, not its value */
        else
            return cli_usage_error(command, "%s needs a value (%s %s)", o->name, o->name,
                                   o->metavar ? o->metavar : "VALUE");
        int rc = store_value(command, o, value);
        if (rc != CLI_EXIT_OK)
            return rc;
    }
    return CLI_EXIT_OK;
}

void cli_print_options(FILE *out, const cli_option *options)
{
    for (const cli_option *o = options; o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "",
                 o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
        fprintf(out, "  %-26s %s\n", left, o->help);
    }
}
