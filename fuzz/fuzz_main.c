/* The libFuzzer entry point of one target: fuzz/meson.build builds this file once per target
 * with LF_FUZZ_TARGET set to its function (clang, -fsanitize=fuzzer). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)LF_FUZZ_TARGET(data, size);
    return 0;   /* libFuzzer reserves other values */
}
