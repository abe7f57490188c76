/* Run-time version, to compare with the LF_VERSION_* macros a host was compiled with. */
#include "libforget/version.h"

uint32_t lf_version_number(void)
{
    return LF_VERSION_NUMBER;
}

const char *lf_version_string(void)
{
    return LF_VERSION_STRING;
}
