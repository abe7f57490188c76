/* Test fixture: writes a small synthetic data set in the MNIST family's IDX format, as the four
 * raw files a `--data DIR` folder holds:
 *
 *   make_idx DIR [N_TRAIN N_TEST]     (defaults 400 and 100)
 *
 * Images are 8×8, 4 classes; class k lights up quadrant k (plus noise), so a small MLP separates
 * them within a couple of epochs. Deterministic (a local LCG), no library code: the tests of the
 * tool and of the installed example use it as an independent source of input files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SIDE = 8, CLASSES = 4 };

static uint64_t lcg_state = 0x2545F4914F6CDD1Dull;

static unsigned next_byte(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(lcg_state >> 56);
}

static void put_be32(FILE *f, uint32_t v)
{
    unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                           (unsigned char)v };
    fwrite(b, 1, 4, f);
}

static FILE *create(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        perror(path);
    return f;
}

/* One pair of files: <prefix>-images-idx3-ubyte and <prefix>-labels-idx1-ubyte. */
static int write_set(const char *dir, const char *prefix, uint32_t n)
{
    char name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
    FILE *images = create(dir, name);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    FILE *labels = create(dir, name);
    if (!images || !labels) {
        if (images)
            fclose(images);
        if (labels)
            fclose(labels);
        return 1;
    }
    put_be32(images, 0x00000803);
    put_be32(images, n);
    put_be32(images, SIDE);
    put_be32(images, SIDE);
    put_be32(labels, 0x00000801);
    put_be32(labels, n);
    for (uint32_t i = 0; i < n; i++) {
        unsigned label = i % CLASSES;
        fputc((int)label, labels);
        for (int y = 0; y < SIDE; y++)
            for (int x = 0; x < SIDE; x++) {
                unsigned quadrant = (unsigned)((y >= SIDE / 2) * 2 + (x >= SIDE / 2));
                unsigned noise = next_byte() % 64;
                fputc((int)(quadrant == label ? 191 + noise : noise), images);
            }
    }
    int failed = ferror(images) || ferror(labels);
    failed |= fclose(images) != 0;
    failed |= fclose(labels) != 0;
    return failed;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 4) {
        fprintf(stderr, "usage: make_idx DIR [N_TRAIN N_TEST]\n");
        return 2;
    }
    uint32_t n_train = argc == 4 ? (uint32_t)strtoul(argv[2], NULL, 10) : 400;
    uint32_t n_test = argc == 4 ? (uint32_t)strtoul(argv[3], NULL, 10) : 100;
    if (write_set(argv[1], "train", n_train) || write_set(argv[1], "t10k", n_test)) {
        fprintf(stderr, "make_idx: cannot write the data set into %s\n", argv[1]);
        return 1;
    }
    return 0;
}
