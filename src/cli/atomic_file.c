/* Output files: an early check of the output folder, and the tool's atomic writes (a temporary
 * file in the same folder, renamed over the final path once complete, so an interrupted or
 * failed write never leaves a partial output). The library has its own, internal, helper; the
 * tool uses only the public API. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cli_check_output_folder(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) {
        cli_error("%s: out of memory", path);
        return CLI_EXIT_RUNTIME;
    }
    struct stat sb;
    int rc = CLI_EXIT_OK;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        cli_error("%s: the folder '%s' does not exist", path, dir);
        rc = CLI_EXIT_RUNTIME;
    } else if (access(dir, W_OK) != 0) {
        cli_error("%s: the folder '%s' is not writable", path, dir);
        rc = CLI_EXIT_RUNTIME;
    }
    free(dir);
    return rc;
}

int cli_atomic_open(cli_atomic_file *af, const char *path)
{
    static const char suffix[] = ".tmp.XXXXXX";
    memset(af, 0, sizeof *af);
    af->path = path;
    size_t n = strlen(path);
    af->tmp_path = malloc(n + sizeof suffix);
    if (!af->tmp_path) {
        cli_error("%s: out of memory", path);
        return CLI_EXIT_RUNTIME;
    }
    memcpy(af->tmp_path, path, n);
    memcpy(af->tmp_path + n, suffix, sizeof suffix);
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        cli_error("%s: cannot create a file there: %s", path, strerror(errno));
        free(af->tmp_path);
        af->tmp_path = NULL;
        return CLI_EXIT_RUNTIME;
    }
    /* mkstemp makes the file 0600; give the result the usual permissions (0666 less umask). */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        cli_error("%s: %s", af->tmp_path, strerror(errno));
        close(fd);
        cli_atomic_abort(af);
        return CLI_EXIT_RUNTIME;
    }
    return CLI_EXIT_OK;
}

int cli_atomic_commit(cli_atomic_file *af)
{
    int ok = fflush(af->fp) == 0 && !ferror(af->fp);
    if (!ok)
        cli_error("%s: write failed: %s", af->path, strerror(errno));
    else if (fsync(fileno(af->fp)) != 0) {
        cli_error("%s: fsync failed: %s", af->path, strerror(errno));
        ok = 0;
    }
    if (fclose(af->fp) != 0 && ok) {
        cli_error("%s: close failed: %s", af->path, strerror(errno));
        ok = 0;
    }
    af->fp = NULL;
    if (ok && rename(af->tmp_path, af->path) != 0) {
        cli_error("%s: cannot move the finished file into place: %s", af->path, strerror(errno));
        ok = 0;
    }
    if (!ok)
        unlink(af->tmp_path);
    free(af->tmp_path);
    af->tmp_path = NULL;
    return ok ? CLI_EXIT_OK : CLI_EXIT_RUNTIME;
}

void cli_atomic_abort(cli_atomic_file *af)
{
    if (af->fp)
        fclose(af->fp);
    af->fp = NULL;
    if (af->tmp_path) {
        unlink(af->tmp_path);
        free(af->tmp_path);
    }
    af->tmp_path = NULL;
}
