/* The --forget SPEC of eval (and later unlearn, bench): random:F, stratified:F, class:K or
 * indices:FILE (one index per line into the train split, i.e. the training pool after the
 * held-out validation split; blank lines and lines starting with '#' are ignored). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int read_indices(const char *command, const char *path, cli_forget *f)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        cli_error("cannot open the index file '%s': %s", path, strerror(errno));
        return CLI_EXIT_RUNTIME;
    }
    size_t cap = 0;
    char line[256];
    long lineno = 0;
    int rc = CLI_EXIT_OK;
    while (rc == CLI_EXIT_OK && fgets(line, sizeof line, fp)) {
        lineno++;
        /* a longer line would come in pieces, each taken for an index of its own */
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            int next = getc(fp);
            if (next != EOF) {
                rc = cli_usage_error(command, "%s:%ld: line longer than %zu characters", path, lineno,
                                     sizeof line - 2);
                break;
            }
        }
        char *p = line + strspn(line, " \t");
        p[strcspn(p, "\r\n")] = '\0';
        if (*p == '\0' || *p == '#')
            continue;
        uint64_t v;
        if (!cli_parse_u64(p, &v) || v > INT64_MAX) {
            rc = cli_usage_error(command, "%s:%ld: '%s' is not a sample index", path, lineno, p);
            break;
        }
        if (f->n_indices == cap) {
            cap = cap ? 2 * cap : 256;
            int64_t *grown = realloc(f->indices, cap * sizeof *grown);
            if (!grown) {
                cli_error("out of memory reading '%s'", path);
                rc = CLI_EXIT_RUNTIME;
                break;
            }
            f->indices = grown;
        }
        f->indices[f->n_indices++] = (int64_t)v;
    }
    if (rc == CLI_EXIT_OK && ferror(fp)) {
        cli_error("cannot read '%s': %s", path, strerror(errno));
        rc = CLI_EXIT_RUNTIME;
    }
    fclose(fp);
    if (rc == CLI_EXIT_OK && f->n_indices == 0)
        rc = cli_usage_error(command, "the index file '%s' holds no index", path);
    return rc;
}

int cli_forget_parse(const char *command, const char *text, uint64_t seed, cli_forget *f)
{
    memset(f, 0, sizeof *f);
    lf_forget_spec init = LF_FORGET_SPEC_INIT;
    f->spec = init;
    f->spec.seed = seed;
    const char *colon = strchr(text, ':');
    if (!colon || colon[1] == '\0')
        return cli_usage_error(command, "--forget: '%s' is not random:F, stratified:F, class:K or indices:FILE",
                               text);
    size_t kind_len = (size_t)(colon - text);
    const char *arg = colon + 1;
    if (kind_len == 6 && strncmp(text, "random", 6) == 0)
        f->spec.kind = LF_FORGET_RANDOM;
    else if (kind_len == 10 && strncmp(text, "stratified", 10) == 0)
        f->spec.kind = LF_FORGET_STRATIFIED;
    else if (kind_len == 5 && strncmp(text, "class", 5) == 0)
        f->spec.kind = LF_FORGET_CLASS;
    else if (kind_len == 7 && strncmp(text, "indices", 7) == 0)
        f->spec.kind = LF_FORGET_INDICES;
    else
        return cli_usage_error(command, "--forget: unknown kind '%.*s' (random, stratified, class or indices)",
                               (int)kind_len, text);
    switch (f->spec.kind) {
    case LF_FORGET_RANDOM:
    case LF_FORGET_STRATIFIED:
        if (!cli_parse_double(arg, &f->spec.fraction) || !(f->spec.fraction > 0 && f->spec.fraction < 1))
            return cli_usage_error(command, "--forget: fraction '%s' is not a number in (0, 1)", arg);
        return CLI_EXIT_OK;
    case LF_FORGET_CLASS:
        if (!cli_parse_i32(arg, &f->spec.forget_class) || f->spec.forget_class < 0)
            return cli_usage_error(command, "--forget: class '%s' is not a class number", arg);
        f->forget_class = f->spec.forget_class;
        f->class_wise = 1;
        return CLI_EXIT_OK;
    default: {
        int rc = read_indices(command, arg, f);
        f->spec.indices = f->indices;
        f->spec.n_indices = f->n_indices;
        if (rc != CLI_EXIT_OK)
            cli_forget_free(f);
        return rc;
    }
    }
}

void cli_forget_free(cli_forget *f)
{
    free(f->indices);
    f->indices = NULL;
    f->n_indices = 0;
}
