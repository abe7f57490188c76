/* The `forget` tool: what the sub-commands share. The tool uses only the public API (it links
 * libforget.so like any host program), and it is the only part of the project that prints.
 *
 * A sub-command is a function `int cmd_x(int argc, char **argv)` (argv[0] is the sub-command's
 * name) returning an exit status, plus a usage text; forget.c lists them. */
#ifndef FORGET_CLI_H
#define FORGET_CLI_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include <libforget/libforget.h>

/* Exit statuses of the tool. */
enum {
    CLI_EXIT_OK      = 0,
    CLI_EXIT_RUNTIME = 1, /* the work failed: a file, the library, the machine */
    CLI_EXIT_USAGE   = 2  /* the command line was wrong */
};

/* ---- sub-commands (cmd_*.c) ---- */

typedef struct cli_command {
    const char *name;
    const char *summary;                /* one line for `forget help` */
    int (*run)(int argc, char **argv);  /* argv[0] = name */
    void (*usage)(FILE *out);           /* the full usage text for `forget help <name>` */
} cli_command;

int  cmd_train(int argc, char **argv);
void cmd_train_usage(FILE *out);
int  cmd_predict(int argc, char **argv);
void cmd_predict_usage(FILE *out);
int  cmd_eval(int argc, char **argv);
void cmd_eval_usage(FILE *out);
int  cmd_unlearn(int argc, char **argv);
void cmd_unlearn_usage(FILE *out);
int  cmd_methods(int argc, char **argv);
int  cmd_bench(int argc, char **argv);
void cmd_bench_usage(FILE *out);
void cmd_methods_usage(FILE *out);

/* ---- messages (report.c) ---- */

/* "forget: <message>" on stderr, one line. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* A failed library call: "forget: <what>: LF_E_...: <detail message>" on stderr. Returns
 * CLI_EXIT_RUNTIME so callers can `return cli_lib_error(st, "...")`. */
int cli_lib_error(lf_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* A bad command line: the message plus a pointer to the sub-command's help, on one line.
 * Returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- option parsing (args.c) ---- */

typedef enum cli_option_type {
    CLI_OPT_FLAG,    /* no value; sets *(int *)dest = 1 */
    CLI_OPT_STRING,  /* *(const char **)dest = the argument (borrowed from argv) */
    CLI_OPT_INT,     /* *(int32_t *)dest, within [min, max] */
    CLI_OPT_U64,     /* *(uint64_t *)dest, decimal, no sign */
    CLI_OPT_DOUBLE,  /* *(double *)dest, finite, within [min, max] (see CLI_MIN_OPEN) */
    CLI_OPT_LIST     /* appended to *(cli_string_list *)dest; may be repeated */
} cli_option_type;

/* The values of a repeatable option, in command-line order (borrowed from argv). */
#define CLI_LIST_MAX 32
typedef struct cli_string_list {
    const char *items[CLI_LIST_MAX];
    int         n;
} cli_string_list;

/* Bits of cli_option.open: which bound of a DOUBLE option is exclusive. */
enum { CLI_MIN_OPEN = 1, CLI_MAX_OPEN = 2 };

typedef struct cli_option {
    const char     *name;     /* "--epochs" */
    const char     *alias;    /* "-o", or NULL */
    cli_option_type type;
    void           *dest;
    double          min, max; /* bounds for INT and DOUBLE */
    int             open;     /* DOUBLE: CLI_MIN_OPEN / CLI_MAX_OPEN bits */
    const char     *metavar;  /* "N", "FILE": shown in the usage text */
    const char     *help;     /* one line, shown in the usage text */
} cli_option;

/* The end of an option table. */
#define CLI_OPTIONS_END { NULL, NULL, CLI_OPT_FLAG, NULL, 0, 0, 0, NULL, NULL }

/* Parses argv[1..argc) against `options` (ended by CLI_OPTIONS_END). Values come as
 * `--name value` or `--name=value`; the last of a repeated option wins. Positional arguments are
 * refused. On a bad command line prints one "forget: ..." line and returns CLI_EXIT_USAGE, else
 * CLI_EXIT_OK. `command` names the sub-command in messages. */
int cli_parse(const char *command, int argc, char **argv, const cli_option *options);

/* Strict number parsing: the whole string must be the number (no blanks, no trailing junk). */
int cli_parse_i32(const char *text, int32_t *out);
int cli_parse_u64(const char *text, uint64_t *out);
int cli_parse_double(const char *text, double *out);

/* Prints the options as aligned usage lines. */
void cli_print_options(FILE *out, const cli_option *options);

/* ---- context, data and splits (setup.c) ---- */

/* Options every sub-command that computes shares. */
typedef struct cli_runtime {
    const char *backend;  /* name for lf_backend_from_name; NULL = auto */
    int32_t     threads;  /* 0 = all cores */
    int         json;     /* --json: one JSON object on stdout, nothing else */
    int         quiet;    /* --quiet: no progress, no chatter */
} cli_runtime;

/* The option table entries of cli_runtime, for a sub-command's table. */
#define CLI_RUNTIME_OPTIONS(rt)                                                                   \
    { "--backend", NULL, CLI_OPT_STRING, &(rt)->backend, 0, 0, 0, "NAME",                         \
      "auto, reference, cpu or cuda (default auto: the fastest built)" },                         \
    { "--threads", NULL, CLI_OPT_INT, &(rt)->threads, 0, 4096, 0, "N",                            \
      "worker threads of the CPU backends (default 0: all cores)" },                              \
    { "--json", NULL, CLI_OPT_FLAG, &(rt)->json, 0, 0, 0, NULL,                                   \
      "print one JSON object on stdout instead of text" },                                        \
    { "--quiet", "-q", CLI_OPT_FLAG, &(rt)->quiet, 0, 0, 0, NULL, "no progress lines on stderr" }

/* Checks the backend name (CLI_EXIT_USAGE on an unknown one) and creates the context. */
int cli_context_create(lf_context **out, const cli_runtime *rt, uint64_t seed, const char *command);

/* The train pool and the test set of --data: a built-in name ("fashion-mnist") or a folder
 * holding the four IDX files of the MNIST family (train-images-idx3-ubyte[.gz],
 * train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]). */
int cli_load_data(lf_context *ctx, const char *data, lf_dataset **pool, lf_dataset **test);

/* The split recipe `forget train` stores in a model's metadata. */
#define CLI_META_SPLIT_SEED     "split.seed"
#define CLI_META_SPLIT_FRACTION "split.val_fraction"
#define CLI_META_DATA_FRACTION  "split.data_fraction"
#define CLI_META_DATA_NAME      "data.name"
#define CLI_META_TRAIN_EPOCHS   "train.epochs"
#define CLI_META_TRAIN_LR       "train.lr"
#define CLI_META_TRAIN_BATCH    "train.batch"
#define CLI_META_TRAIN_SCHEDULE "train.schedule"
#define CLI_META_TRAIN_PRUNE    "train.prune"
#define CLI_META_TRAIN_PRUNE_EPOCH "train.prune_epoch"

#define CLI_DEFAULT_SEED         1u
#define CLI_DEFAULT_VAL_FRACTION 0.1

/* How the train pool was split into train and validation. */
typedef struct cli_split_recipe {
    uint64_t seed;
    double   val_fraction;
    double   data_fraction; /* (0, 1]: a stratified subset of the pool first (quick runs) */
} cli_split_recipe;

/* The recipe stored in a model's metadata; the defaults where a key is absent (a model from
 * elsewhere). A malformed value is an error (path names the model file in the message). */
int cli_split_recipe_from_model(const lf_model *model, const char *path, cli_split_recipe *recipe);
/* A parsed --forget SPEC (forget_spec.c). */
typedef struct cli_forget {
    lf_forget_spec spec;
    int64_t       *indices;       /* indices:FILE, owned */
    size_t         n_indices;
    int            class_wise;    /* class:K: the test set drops class K too */
    int32_t        forget_class;
} cli_forget;

/* Parses SPEC (random:F, stratified:F, class:K, indices:FILE); seed draws random splits. */
int  cli_forget_parse(const char *command, const char *text, uint64_t seed, cli_forget *f);
void cli_forget_free(cli_forget *f);

/* train/validation views of pool by the recipe (of its data_fraction subset when < 1). */
int cli_split_holdout(const lf_dataset *pool, const cli_split_recipe *recipe, lf_dataset **train,
                      lf_dataset **val);


/* ---- a forgetting session: model, data, splits, evaluation (session.c) ---- */

typedef struct cli_session {
    lf_context *ctx;
    lf_model   *model;
    const char *data;          /* --data, or the model's data.name */
    const char *forget_text;   /* --forget as typed */
    cli_forget  f;
    cli_split_recipe recipe;
    lf_dataset *pool, *test, *train, *val, *retain, *forget;
    lf_dataset *test_kept;     /* class:K: the test set without class K; else NULL */
    int         quiet;         /* no progress on stderr */
} cli_session;

/* Loads the model and its data, rebuilds the train/validation split from the model's metadata
 * and splits the train split by --forget (seed 0: the model's split seed). Close it on every
 * path, success or not. */
int  cli_session_open(cli_session *s, const char *command, const cli_runtime *rt,
                      const char *model_path, const char *data, const char *forget, uint64_t seed);
void cli_session_close(cli_session *s);
/* lf_evaluate of model on the session's forget, retain and test sets. */
int  cli_session_evaluate(const cli_session *s, lf_model *model, lf_metrics *m);
/* Retrain's parameters from the recipe in the model's metadata (other methods: nothing). */
int  cli_apply_recipe(lf_request *req, const lf_model *model);
/* A request for `method` on the session's train split, forget set and validation split (the
 * holdout), with `seed` and, for retrain, the model's recipe. The caller destroys *out, also
 * on failure. */
int  cli_session_request(const cli_session *s, const char *method, uint64_t seed, lf_request **out);
/* One --param KEY=VALUE: parsed and set with lf_request_set_param; a bad one is a usage error
 * of `command` naming it. */
int  cli_request_set_kv(lf_request *req, const char *command, const char *kv);

/* ---- output (report.c, progress.c, npy.c) ---- */

/* A double as the shortest text that reads back to the same value (for JSON and metadata). */
#define CLI_NUMBER_LEN 32
void cli_format_number(char buf[CLI_NUMBER_LEN], double v);

/* One flat JSON object on one line: begin, fields, end. A NULL string and a non-finite number
 * are written as null. */
typedef struct cli_json {
    FILE *out;
    int   fields;
} cli_json;
void cli_json_begin(cli_json *j, FILE *out);
void cli_json_str(cli_json *j, const char *key, const char *value);
void cli_json_num(cli_json *j, const char *key, double value);
void cli_json_int(cli_json *j, const char *key, long long value);
void cli_json_uint(cli_json *j, const char *key, unsigned long long value);
void cli_json_end(cli_json *j);

/* The metrics of lf_evaluate: as fields of an open JSON object, or as text (session.c). */
void cli_metrics_json(cli_json *j, const lf_metrics *m);
void cli_metrics_print(const char *forget, const lf_metrics *m);

/* Progress of long library calls on stderr (progress.c): a live line with phase, bar, ETA on a
 * terminal; one line per epoch or per phase otherwise; nothing when quiet. */
typedef struct cli_progress {
    int     quiet;
    int     live;           /* stderr is a terminal */
    int32_t epochs;         /* as asked, for "epoch 3/10" (0: unknown) */
    int     line_open;      /* a live line waits for its newline */
    double  last_draw;      /* time of the last live redraw */
    double  start;          /* of the whole call */
    double  phase_start;    /* of the current phase, for its ETA */
    char    phase[32];      /* the current lf_progress phase */
    /* plain mode: the epoch or phase whose line is not printed yet */
    int     has_pending;
    int32_t pending_epoch;  /* -1: a phase without epochs */
    int64_t pending_step, pending_total;
    double  pending_loss, pending_metric, pending_time;
} cli_progress;

void cli_progress_init(cli_progress *p, int quiet, int32_t epochs);
int  cli_progress_callback(void *user, const lf_progress *progress);
/* Ends an open live line, or prints the last epoch's or phase's plain line. */
void cli_progress_finish(cli_progress *p);

/* Wall clock (monotonic) in seconds. */
double cli_now(void);

/* Writes rows × cols float32 values as a NumPy .npy file (format 1.0, '<f4', C order), the data
 * aligned to 64 bytes, atomically (a temporary file beside path, then rename). On failure prints
 * the error and returns CLI_EXIT_RUNTIME; path is then untouched. */
int cli_write_npy_f32(const char *path, const float *data, size_t rows, size_t cols);

/* ---- the HTML page of forget bench --report (report_html.c) ---- */

/* One row of the comparison table (the numbers `forget bench` prints). */
typedef struct cli_html_row {
    const char       *method;
    const lf_metrics *metrics;
    double            seconds;    /* run time of the unlearning call */
    double            disparity;  /* Avg. Disparity vs Retrain; NaN: none */
    double            speedup;    /* Retrain's seconds / seconds; NaN: none */
} cli_html_row;

/* One model's logit-scaled confidences phi = log(p_y / (1 - p_y)) (lf_model_logit_confidences):
 * what a membership attacker sees of the forget set and of unseen test samples. */
typedef struct cli_html_confidences {
    const char   *model;    /* "original", "retrain" or a method */
    const double *forget;   /* cli_html_report.n_hist_forget values */
    const double *test;     /* cli_html_report.n_hist_test values */
} cli_html_confidences;

typedef struct cli_html_report {
    const char *dataset, *arch, *forget_spec, *backend;
    int32_t     threads;
    uint64_t    seed;
    int64_t     n_forget, n_retain, n_test;   /* the evaluation's D_f, D_r, D_test */
    const char *test_name;        /* what the evaluation's D_test is, e.g. "the test set" */
    int         argc;                         /* the sub-command's argv, shown as typed */
    char *const *argv;
    const cli_html_row *rows;
    int         n_rows;
    const char *hist_test_name;   /* legend of the histograms' test samples */
    size_t      n_hist_forget, n_hist_test;
    const cli_html_confidences *conf;
    int         n_conf;
} cli_html_report;

/* Writes the report as one self-contained HTML page (inline CSS and SVG charts; no script, no
 * external reference; XHTML-compatible markup), atomically. Prints the error and returns
 * CLI_EXIT_RUNTIME on failure; path is then untouched. */
int cli_write_html_report(const char *path, const cli_html_report *r);

/* ---- atomic files (atomic_file.c) ---- */

/* A file written beside its final path and renamed into place on commit; on abort, or on any
 * failure of commit, the temporary file is removed and the final path is untouched. */
typedef struct cli_atomic_file {
    FILE *fp;
    char *tmp_path;
    const char *path;   /* borrowed */
} cli_atomic_file;

/* Checks that the folder of an output path exists and is writable, so a long computation does
 * not end in a failed save. Prints the error and returns CLI_EXIT_RUNTIME if not. */
int  cli_check_output_folder(const char *path);
/* Prints the error and returns CLI_EXIT_RUNTIME on failure. */
int  cli_atomic_open(cli_atomic_file *af, const char *path);
int  cli_atomic_commit(cli_atomic_file *af);
void cli_atomic_abort(cli_atomic_file *af);

#endif
