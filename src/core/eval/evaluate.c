/* lf_evaluate: the seed papers' metrics of one model (UA, RA, TA, MIA-Efficacy) and the Song &
 * Mittal attacks, from one batched inference pass over D_f, D_r and D_test.
 *
 * Each set is reduced to per-sample scores (label, correctness, p_y, -entropy, -Mentr), so the
 * SVM and the four attacks never touch the model again. */
#include <math.h>
#include <string.h>

#include "core/eval/eval_internal.h"
#include "core/model_internal.h"

#define DEFAULT_BATCH 1024

/* The first published layout of lf_eval_options (all of today's fields). */
#define EVAL_OPTIONS_V1_SIZE sizeof(lf_eval_options)
#define KNOWN_FLAGS (LF_EVAL_SKIP_MIA | LF_EVAL_SKIP_ATTACKS)

enum { SCORE_CORRECT, SCORE_CONFIDENCE, SCORE_NEG_ENTROPY, SCORE_NEG_MENTR, SCORE_COUNT };

/* Per-sample scores of one data set. */
typedef struct set_scores {
    const char *name;                 /* "forget", "retain", "test" (for errors) */
    size_t      n;
    int32_t    *labels;
    double     *score[SCORE_COUNT];   /* each n values */
    int64_t     correct;
} set_scores;

typedef struct eval_run {
    lf_model        *model;
    const lf_context *ctx;
    lf_eval_options  opts;
    int32_t          classes;
    set_scores       sets[3];         /* forget, retain, test */
    int64_t          step, total;
} eval_run;

static lf_status scores_alloc(set_scores *s, const lf_context *ctx, const char *name, size_t n)
{
    s->name = name;
    s->n = n;
    s->labels = lf__calloc(ctx, n, sizeof *s->labels, "evaluation labels");
    double *block = lf__calloc(ctx, n, SCORE_COUNT * sizeof(double), "evaluation scores");
    if (!s->labels || !block) {
        lf__free(ctx, block, n * SCORE_COUNT * sizeof(double));
        return LF_E_NOMEM;
    }
    for (int k = 0; k < SCORE_COUNT; k++)
        s->score[k] = block + (size_t)k * n;
    return LF_OK;
}

static void scores_free(set_scores *s, const lf_context *ctx)
{
    lf__free(ctx, s->labels, s->n * sizeof *s->labels);
    lf__free(ctx, s->score[0], s->n * SCORE_COUNT * sizeof(double));
}

static lf_status report_progress(eval_run *run, const char *phase)
{
    if (!run->opts.progress)
        return LF_OK;
    lf_progress p = { (uint32_t)sizeof(lf_progress), -1, run->step, run->total, NAN, NAN, phase };
    if (run->opts.progress(run->opts.progress_user, &p) != 0)
        return lf__error(LF_E_ABORTED, "lf_evaluate: aborted by the progress callback (%s, step %lld of %lld)",
                         phase, (long long)run->step, (long long)run->total);
    return LF_OK;
}

typedef struct chunk_user {
    eval_run   *run;
    set_scores *set;
} chunk_user;

/* The first maximum wins (torch.argmax), as lf_model_accuracy counts. */
static int32_t logits_argmax(const float *row, int32_t classes)
{
    int32_t best = 0;
    for (int32_t k = 1; k < classes; k++)
        if (row[k] > row[best])
            best = k;
    return best;
}

static lf_status score_chunk(void *user, size_t first, size_t count, const float *logits,
                             const float *probs, const int32_t *labels)
{
    chunk_user *u = user;
    set_scores *s = u->set;
    int32_t classes = u->run->classes;
    for (size_t i = 0; i < count; i++) {
        const float *row = logits + i * (size_t)classes;
        for (int32_t k = 0; k < classes; k++)
            if (!isfinite(row[k]))
                return lf__error(LF_E_NUMERIC, "lf_evaluate: %s sample %zu: the model's logit %d is %g",
                                 s->name, first + i, (int)k, (double)row[k]);
    }
    lf_status st = lf__eval_check_probs(probs, labels, count, classes, s->name);
    if (st != LF_OK) {
        lf__error_prefix("lf_evaluate: samples from %zu", first);
        return st;
    }
    for (size_t i = 0; i < count; i++) {
        const float *p = probs + i * (size_t)classes;
        int32_t y = labels[i];
        size_t j = first + i;
        int correct = logits_argmax(logits + i * (size_t)classes, classes) == y;
        s->labels[j] = y;
        s->correct += correct;
        s->score[SCORE_CORRECT][j] = correct;
        s->score[SCORE_CONFIDENCE][j] = lf__eval_feature(p, y, classes, LF_FEATURE_CONFIDENCE);
        s->score[SCORE_NEG_ENTROPY][j] = lf__eval_feature(p, y, classes, LF_FEATURE_NEG_ENTROPY);
        s->score[SCORE_NEG_MENTR][j] = lf__eval_feature(p, y, classes, LF_FEATURE_NEG_MODIFIED_ENTROPY);
    }
    u->run->step += (int64_t)count;
    return report_progress(u->run, "eval");
}

/* The MIA-Efficacy SVM's feature for every sample of a set, into out (n values). */
static void svm_feature(double *out, const set_scores *s, int32_t feature)
{
    for (size_t i = 0; i < s->n; i++) {
        switch (feature) {
        case LF_FEATURE_CONFIDENCE:           out[i] = s->score[SCORE_CONFIDENCE][i]; break;
        case LF_FEATURE_ENTROPY:              out[i] = -s->score[SCORE_NEG_ENTROPY][i]; break;
        case LF_FEATURE_NEG_ENTROPY:          out[i] = s->score[SCORE_NEG_ENTROPY][i]; break;
        case LF_FEATURE_MODIFIED_ENTROPY:     out[i] = -s->score[SCORE_NEG_MENTR][i]; break;
        case LF_FEATURE_NEG_MODIFIED_ENTROPY: out[i] = s->score[SCORE_NEG_MENTR][i]; break;
        default:                              out[i] = s->score[SCORE_CORRECT][i]; break;
        }
    }
}

static lf_status run_mia(eval_run *run, lf_metrics *m)
{
    const set_scores *f = &run->sets[0], *r = &run->sets[1], *t = &run->sets[2];
    size_t n_members = r->n < t->n ? r->n : t->n;   /* the first |D_test| samples of D_r */
    size_t total = n_members + t->n + f->n;
    double *x = lf__calloc(run->ctx, total, sizeof *x, "SVM features");
    if (!x)
        return LF_E_NOMEM;
    double *members = x, *nonmembers = x + n_members, *targets = nonmembers + t->n;
    set_scores head = *r;
    head.n = n_members;
    svm_feature(members, &head, run->opts.mia_feature);
    svm_feature(nonmembers, t, run->opts.mia_feature);
    svm_feature(targets, f, run->opts.mia_feature);
    double t0 = lf__now_seconds();
    lf_status st = lf__eval_mia_svm(run->ctx, &m->mia_efficacy, NULL, members, n_members, nonmembers,
                                    t->n, targets, f->n, run->opts.svm_cache_mb);
    m->mia_seconds = lf__now_seconds() - t0;
    m->n_mia_members = (int64_t)n_members;
    lf__free(run->ctx, x, total * sizeof *x);
    if (st != LF_OK)
        lf__error_prefix("lf_evaluate: MIA-Efficacy");
    return st;
}

/* Splits D_r: n_target retain samples at positions floor(i·|D_r|/n_target) are the attacks'
 * target members, the others (in order) the shadow members. Both get every score and label. */
typedef struct retain_split {
    size_t   n_shadow, n_target;
    int32_t *shadow_labels, *target_labels;
    double  *shadow[SCORE_COUNT], *target[SCORE_COUNT];
    double  *block;
    size_t   block_size;
} retain_split;

static lf_status split_retain(retain_split *sp, const lf_context *ctx, const set_scores *r, size_t n_target)
{
    memset(sp, 0, sizeof *sp);
    sp->n_target = n_target;
    sp->n_shadow = r->n - n_target;
    sp->block_size = r->n * (SCORE_COUNT * sizeof(double) + sizeof(int32_t));
    sp->block = lf__alloc(ctx, sp->block_size, "attack retain split");
    if (!sp->block)
        return LF_E_NOMEM;
    for (int k = 0; k < SCORE_COUNT; k++) {
        sp->shadow[k] = sp->block + (size_t)k * r->n;
        sp->target[k] = sp->shadow[k] + sp->n_shadow;
    }
    sp->shadow_labels = (int32_t *)(sp->block + SCORE_COUNT * r->n);
    sp->target_labels = sp->shadow_labels + sp->n_shadow;
    size_t next_target = 0, ns = 0, nt = 0;
    for (size_t j = 0; j < r->n; j++) {
        int is_target = nt < n_target && j == next_target;
        size_t dst = is_target ? nt++ : ns++;
        (is_target ? sp->target_labels : sp->shadow_labels)[dst] = r->labels[j];
        for (int k = 0; k < SCORE_COUNT; k++)
            (is_target ? sp->target[k] : sp->shadow[k])[dst] = r->score[k][j];
        if (is_target && nt < n_target)
            next_target = (size_t)((uint64_t)nt * r->n / n_target);
    }
    return LF_OK;
}

static lf_status run_attacks(eval_run *run, lf_metrics *m)
{
    const set_scores *f = &run->sets[0], *r = &run->sets[1], *t = &run->sets[2];
    size_t n_target = f->n < r->n / 2 ? f->n : r->n / 2;
    retain_split sp;
    LF__TRY(split_retain(&sp, run->ctx, r, n_target));
    m->n_shadow_members = (int64_t)sp.n_shadow;
    m->n_target_members = (int64_t)sp.n_target;

    lf_attack_result res = LF_ATTACK_RESULT_INIT;
    lf__scored tin = { sp.target[SCORE_CORRECT], sp.target_labels, sp.n_target };
    lf__scored tout = { f->score[SCORE_CORRECT], f->labels, f->n };
    lf_status st = lf__eval_attack_correctness(&res, tin, tout);
    if (st == LF_OK) {
        m->attack_tpr[LF_ATTACK_CORRECTNESS] = res.tpr;
        m->attack_tnr[LF_ATTACK_CORRECTNESS] = res.tnr;
        m->attack_accuracy[LF_ATTACK_CORRECTNESS] = res.accuracy;
    }
    static const int attack_score[LF_ATTACK_COUNT] = { SCORE_CORRECT, SCORE_CONFIDENCE,
                                                       SCORE_NEG_ENTROPY, SCORE_NEG_MENTR };
    for (int a = LF_ATTACK_CONFIDENCE; st == LF_OK && a < LF_ATTACK_COUNT; a++) {
        int k = attack_score[a];
        lf__scored sin = { sp.shadow[k], sp.shadow_labels, sp.n_shadow };
        lf__scored sout = { t->score[k], t->labels, t->n };
        lf__scored ain = { sp.target[k], sp.target_labels, sp.n_target };
        lf__scored aout = { f->score[k], f->labels, f->n };
        st = lf__eval_attack_threshold(run->ctx, &res, NULL, sin, sout, ain, aout, run->classes);
        if (st == LF_OK) {
            m->attack_tpr[a] = res.tpr;
            m->attack_tnr[a] = res.tnr;
            m->attack_accuracy[a] = res.accuracy;
        }
    }
    lf__free(run->ctx, sp.block, sp.block_size);
    if (st != LF_OK)
        lf__error_prefix("lf_evaluate: attacks");
    return st;
}

static void metrics_reset(lf_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->struct_size = (uint32_t)sizeof *m;
    m->ua = m->ra = m->ta = m->mia_efficacy = NAN;
    for (int a = 0; a < LF_ATTACK_COUNT; a++)
        m->attack_tpr[a] = m->attack_tnr[a] = m->attack_accuracy[a] = NAN;
    m->seconds = m->mia_seconds = NAN;
}

static lf_status check_inputs(const eval_run *run, const lf_dataset *const sets[3])
{
    static const char *const names[3] = { "forget", "retain", "test" };
    for (int i = 0; i < 3; i++) {
        LF__CHECK_ARG(sets[i], "lf_evaluate: the %s set is NULL", names[i]);
        LF__CHECK_ARG(lf_dataset_size(sets[i]) > 0, "lf_evaluate: the %s set is empty", names[i]);
        int32_t c = lf_dataset_num_classes(sets[i]);
        if (c > run->classes)
            return lf__error(LF_E_SHAPE, "lf_evaluate: the %s set has %d classes, the model %d", names[i],
                             (int)c, (int)run->classes);
    }
    if (!(run->opts.flags & LF_EVAL_SKIP_ATTACKS))
        LF__CHECK_ARG(lf_dataset_size(sets[1]) >= 2,
                      "lf_evaluate: the retain set has 1 sample (the attacks need at least 2)");
    LF__CHECK_ARG(lf__eval_feature_valid(run->opts.mia_feature), "lf_evaluate: unknown mia_feature %d",
                  (int)run->opts.mia_feature);
    LF__CHECK_ARG(run->opts.batch_size >= 0, "lf_evaluate: batch_size is %d", (int)run->opts.batch_size);
    LF__CHECK_ARG(!(run->opts.flags & ~KNOWN_FLAGS), "lf_evaluate: unknown flags 0x%x",
                  (unsigned)(run->opts.flags & ~KNOWN_FLAGS));
    if (!(run->opts.svm_cache_mb >= 0.0))
        return lf__error(LF_E_OUT_OF_RANGE, "lf_evaluate: svm_cache_mb = %g (must be >= 0)",
                         run->opts.svm_cache_mb);
    return LF_OK;
}

lf_status lf_evaluate(lf_model *model, const lf_dataset *forget, const lf_dataset *retain,
                      const lf_dataset *test, const lf_eval_options *opts, lf_metrics *metrics)
{
    LF__CHECK_ARG(metrics, "lf_evaluate: metrics is NULL");
    lf_metrics m;
    metrics_reset(&m);
    LF__TRY(lf__copy_struct_out(metrics, &m, sizeof m, "lf_metrics"));   /* NaN until done */
    LF__CHECK_ARG(model, "lf_evaluate: model is NULL");
    double t0 = lf__now_seconds();

    eval_run run;
    memset(&run, 0, sizeof run);
    run.model = model;
    run.ctx = model->ctx;
    run.classes = lf_model_num_classes(model);
    LF__TRY(lf__copy_struct_in(&run.opts, sizeof run.opts, opts, EVAL_OPTIONS_V1_SIZE, "lf_eval_options"));
    const lf_dataset *const sets[3] = { forget, retain, test };
    LF__TRY(check_inputs(&run, sets));
    size_t batch = run.opts.batch_size > 0 ? (size_t)run.opts.batch_size : DEFAULT_BATCH;

    static const char *const names[3] = { "forget", "retain", "test" };
    lf_status st = LF_OK;
    for (int i = 0; i < 3; i++) {
        run.total += (int64_t)lf_dataset_size(sets[i]);
        if (st == LF_OK)
            st = scores_alloc(&run.sets[i], run.ctx, names[i], lf_dataset_size(sets[i]));
    }
    for (int i = 0; st == LF_OK && i < 3; i++) {
        chunk_user u = { &run, &run.sets[i] };
        st = lf__eval_for_each_chunk(model, sets[i], batch, 1, score_chunk, &u);
    }
    if (st == LF_OK) {
        m.n_forget = (int64_t)run.sets[0].n;
        m.n_retain = (int64_t)run.sets[1].n;
        m.n_test = (int64_t)run.sets[2].n;
        double acc[3];
        for (int i = 0; i < 3; i++)   /* 100 × lf_model_accuracy's value */
            acc[i] = 100.0 * ((double)run.sets[i].correct / (double)run.sets[i].n);
        m.ua = 100.0 - acc[0];
        m.ra = acc[1];
        m.ta = acc[2];
        m.mia_feature = run.opts.mia_feature;
        m.mia_seconds = 0.0;
    }
    if (st == LF_OK && !(run.opts.flags & LF_EVAL_SKIP_MIA)) {
        st = report_progress(&run, "mia");
        if (st == LF_OK)
            st = run_mia(&run, &m);
    }
    if (st == LF_OK && !(run.opts.flags & LF_EVAL_SKIP_ATTACKS))
        st = run_attacks(&run, &m);
    for (int i = 0; i < 3; i++)
        scores_free(&run.sets[i], run.ctx);
    if (st != LF_OK)
        return st;
    m.seconds = lf__now_seconds() - t0;
    return lf__copy_struct_out(metrics, &m, sizeof m, "lf_metrics");
}
