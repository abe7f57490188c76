/* A whole training step of convnet and resnet18 on the cpu backend against the reference
 * backend (public API): the same model, data and seed on both; one SGD step (lr 1, no momentum
 * history, no weight decay, so the parameter change IS the gradient); then the change of every
 * parameter tensor, the running statistics and eval-mode logits must agree within 1e-4 relative
 * to the tensor's largest magnitude. Returns at once when the cpu backend is not built. */
#include "lf_test.h"

static lf_model *model_on(lf_context *ctx, const char *arch, const lf_dataset *ds)
{
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    ck_assert_lf_ok(lf_model_config_from_dataset(&cfg, ds));
    cfg.seed = 5;
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_create(&m, ctx, arch, &cfg));
    return m;
}

static void one_step(lf_model *m, const lf_dataset *ds)
{
    lf_train_options t = LF_TRAIN_OPTIONS_INIT;
    t.epochs = 1;
    t.batch_size = (int32_t)lf_dataset_size(ds);   /* one step */
    t.lr = 1.0;
    t.weight_decay = -1;                           /* none */
    t.seed = 9;
    ck_assert_lf_ok(lf_model_train(m, ds, &t, NULL));
}

/* max|a − b| ≤ 1e-4 · max|b| (and b not all zero) */
static void assert_close(const char *what, const float *a, const float *b, size_t n)
{
    double worst = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs((double)a[i] - b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    ck_assert_msg(scale > 0, "%s: all zero", what);
    ck_assert_msg(worst <= 1e-4 * scale, "%s: max difference %.3g, scale %.3g", what, worst, scale);
}

START_TEST(training_step_agrees)
{
    if (!lf_backend_is_available(LF_BACKEND_CPU))
        return;
    const char *arch = _i == 0 ? "convnet" : "resnet18";
    lf_context *ref = lf_test_context(LF_BACKEND_REFERENCE), *cpu = lf_test_context(LF_BACKEND_CPU);
    lf_dataset *d_ref = lf_test_blobs(ref, 8, 4, _i == 0 ? 1 : 3, 12, 12, 17);
    lf_dataset *d_cpu = lf_test_blobs(cpu, 8, 4, _i == 0 ? 1 : 3, 12, 12, 17);
    lf_model *m_ref = model_on(ref, arch, d_ref), *m_cpu = model_on(cpu, arch, d_cpu);
    size_t n = lf_model_num_params(m_ref);
    float *p0 = malloc(n * sizeof *p0), *pr = malloc(n * sizeof *pr), *pc = malloc(n * sizeof *pc);
    ck_assert_lf_ok(lf_model_get_params(m_ref, p0, n));
    ck_assert_lf_ok(lf_model_get_params(m_cpu, pc, n));
    ck_assert_msg(memcmp(p0, pc, n * sizeof *p0) == 0, "the two initialisations differ");

    one_step(m_ref, d_ref);
    one_step(m_cpu, d_cpu);
    ck_assert_lf_ok(lf_model_get_params(m_ref, pr, n));
    ck_assert_lf_ok(lf_model_get_params(m_cpu, pc, n));
    for (size_t i = 0; i < n; i++) {   /* the step itself: −lr·gradient */
        pr[i] -= p0[i];
        pc[i] -= p0[i];
    }
    assert_close("parameter change (the gradient)", pc, pr, n);

    /* eval-mode logits use the running statistics the step updated */
    float x[8 * 3 * 12 * 12], lr_[8 * 4], lc[8 * 4];
    for (size_t i = 0; i < 8; i++)
        ck_assert_lf_ok(lf_dataset_get(d_ref, i, x + i * (size_t)(_i == 0 ? 1 : 3) * 144, NULL));
    ck_assert_lf_ok(lf_model_forward(m_ref, x, 8, lr_));
    ck_assert_lf_ok(lf_model_forward(m_cpu, x, 8, lc));
    assert_close("eval logits after the step", lc, lr_, 8 * 4);

    free(p0), free(pr), free(pc);
    lf_model_destroy(m_ref), lf_model_destroy(m_cpu);
    lf_dataset_destroy(d_ref), lf_dataset_destroy(d_cpu);
    lf_context_destroy(ref), lf_context_destroy(cpu);
}
END_TEST

static Suite *step_suite(void)
{
    Suite *s = suite_create("step_backends");
    TCase *tc = tcase_create("cpu_vs_reference");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, training_step_agrees, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(step_suite)
