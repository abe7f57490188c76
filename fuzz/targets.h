/* The fuzz targets: one function per parser that takes untrusted bytes, shared by the libFuzzer
 * programs (fuzz_main.c, clang only) and the replay test (test_fuzz_replay.c, any compiler),
 * which runs the committed corpora and regression inputs in every CI build.
 *
 * Input layouts (fuzz/make_corpus.py writes the seeds in them):
 *   idx, npy     [option byte][u32 LE length of the first file][images file][labels file]
 *                option bit 0: num_classes 10 instead of 0 (inferred)
 *   cifar        [option byte][u32 LE length of the first file][file 1][file 2]
 *                option bit 0: CIFAR-100 instead of CIFAR-10; bit 1: both files, else file 1 only
 *   safetensors  [option byte][the model file]  option % 4: arch NULL, "mlp", "convnet", "resnet18"
 *   forget_spec  the --forget SPEC text (up to the first NUL; "indices:" is left to `indices`)
 *   indices      the contents of an indices:FILE file
 * Loaders read files, so each input is written to a temporary file first (under $TMPDIR). The
 * library allocates through a hook that aborts on a block beyond max(64 MiB, 64 x the input):
 * a size taken from a header that no data backs is a bug even when the allocation would succeed. */
#ifndef LF_FUZZ_TARGETS_H
#define LF_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

/* Each returns the outcome: an lf_status, or for the CLI targets the tool's exit status. */
int lf_fuzz_idx(const uint8_t *data, size_t size);
int lf_fuzz_cifar(const uint8_t *data, size_t size);
int lf_fuzz_npy(const uint8_t *data, size_t size);
int lf_fuzz_safetensors(const uint8_t *data, size_t size);
int lf_fuzz_forget_spec(const uint8_t *data, size_t size);
int lf_fuzz_indices(const uint8_t *data, size_t size);

typedef struct lf_fuzz_target {
    const char *name;                           /* the fuzz/corpus/<name> folder */
    int (*run)(const uint8_t *data, size_t size);
    int cli;                                    /* outcome is an exit status, not an lf_status */
} lf_fuzz_target;

extern const lf_fuzz_target lf_fuzz_targets[];
extern const size_t lf_fuzz_n_targets;

/* Frees the shared context and removes the temporary folder (atexit does it too). */
void lf_fuzz_cleanup(void);

#endif
