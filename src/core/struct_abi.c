/* Size-versioned structs (the openat2/clone3 "extensible struct" rule): the caller's
 * struct_size says which layout it was compiled with; fields are only ever appended and zero
 * means "default", so an older caller's missing tail reads as defaults. */
#include <string.h>

#include "core/internal.h"

lf_status lf__copy_struct_in(void *dst, size_t dst_size, const void *src, size_t min_size,
                             const char *what)
{
    memset(dst, 0, dst_size);
    if (src) {
        uint32_t src_size;
        memcpy(&src_size, src, sizeof src_size);
        if (src_size < min_size || src_size % 4 != 0)
            return lf__error(LF_E_ABI, "%s: struct_size %u is invalid (at least %zu, a multiple of 4); "
                             "initialise it with its _INIT macro", what, src_size, min_size);
        if (src_size > dst_size) {
            const unsigned char *tail = (const unsigned char *)src + dst_size;
            for (size_t i = 0; i < src_size - dst_size; i++)
                if (tail[i] != 0)
                    return lf__error(LF_E_UNSUPPORTED,
                                     "%s: byte %zu is set, but this library only knows the first %zu "
                                     "bytes (struct_size %u): a newer option this version lacks",
                                     what, dst_size + i, dst_size, src_size);
        }
        memcpy(dst, src, src_size < dst_size ? src_size : dst_size);
    }
    uint32_t own = (uint32_t)dst_size;
    memcpy(dst, &own, sizeof own);
    return LF_OK;
}

lf_status lf__copy_struct_out(void *dst, const void *src, size_t src_size, const char *what)
{
    uint32_t dst_size;
    memcpy(&dst_size, dst, sizeof dst_size);
    if (dst_size < 8 || dst_size % 4 != 0)
        return lf__error(LF_E_ABI, "%s: struct_size %u is invalid (at least 8, a multiple of 4); "
                         "initialise it with its _INIT macro", what, dst_size);
    size_t n = dst_size < src_size ? dst_size : src_size;
    memcpy((unsigned char *)dst + sizeof dst_size, (const unsigned char *)src + sizeof dst_size,
           n - sizeof dst_size);
    return LF_OK;
}
