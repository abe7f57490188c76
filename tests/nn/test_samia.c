/* The SAMIA attacker as an object: its tensor table and PyTorch-default init, create / destroy,
 * argument and state errors, reproducible dropout (same seed and step: same logits; another step:
 * other logits; eval: no dropout), zero_grads / Adam bookkeeping, and that a few Adam steps
 * learn a separable membership problem. Gradients are checked in test_attacker_gradcheck. */
#include "lf_test.h"
#include "core/nn/attacker_internal.h"

static float *dev(lf_context *ctx, size_t n)
{
    void *p = NULL;
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, &p, n, sizeof(float), 1, "test"));
    return p;
}

static float *down(lf_context *ctx, const float *d, size_t n)
{
    float *h = malloc(n * sizeof *h);
    ck_assert_lf_ok(LF__BE(ctx, mem_download, h, d, n * sizeof *h));
    return h;
}

static float *random_u(lf_context *ctx, int64_t n, int64_t classes, unsigned long long seed)
{
    size_t len = (size_t)(n * 3 * classes);
    float *h = malloc(len * sizeof *h);
    for (size_t i = 0; i < len; i++)
        h[i] = (float)(4 * lf_test_u01(&seed) - 2);
    float *d = dev(ctx, len);
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, d, h, len * sizeof *h));
    free(h);
    return d;
}

START_TEST(table_and_init)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf__samia *s = NULL, *t = NULL;
    const int64_t C = 10;
    ck_assert_lf_ok(lf__samia_create(&s, ctx, C, 5));
    /* PyTorch's parameter count for this module */
    const size_t per_layer = 3 * 64 * 64 + 3 * 64 + 64 * 64 + 64 + 128 * 64 + 128 + 64 * 128 + 64 + 4 * 64;
    ck_assert_uint_eq(s->n_params, 2 * 3 * C + 64 * 3 + 64 + 3 * per_layer + 64 * 64 * C + 64 + 2 * 64 + 2);
    ck_assert_uint_eq(s->n_buffers, 2 * 3 * C + 1);
    ck_assert_ptr_nonnull(lf__samia_find_tensor(s, "layers.2.self_attn.out_proj.bias"));
    ck_assert_ptr_null(lf__samia_find_tensor(s, "layers.3.norm1.weight"));
    const lf__tensor_desc *fc1 = lf__samia_find_tensor(s, "fc1.weight");
    ck_assert_int_eq(fc1->shape[0], 64);
    ck_assert_int_eq(fc1->shape[1], 64 * C);
    float *p = down(ctx, s->params, s->n_params), *b = down(ctx, s->buffers, s->n_buffers);
    /* bounds and constants per tensor */
    for (size_t i = 0; i < s->n_tensors; i++) {
        const lf__tensor_desc *td = &s->tensors[i];
        const char *nm = td->name;
        const float *v = (td->kind == LF__TENSOR_PARAM ? p : b) + td->offset;
        double bound = -1, constant = NAN, maxabs = 0;
        size_t len = strlen(nm);
        int is_bias = len > 5 && strcmp(nm + len - 5, ".bias") == 0;
        if (strstr(nm, "in_proj_weight"))
            bound = sqrt(6.0 / (64 + 192));
        else if (strstr(nm, "in_proj_bias") || strstr(nm, "out_proj.bias") || strstr(nm, "running_mean") ||
                 strstr(nm, "num_batches") || ((strstr(nm, "norm") || strncmp(nm, "bn.", 3) == 0) && is_bias))
            constant = 0;
        else if (strstr(nm, "norm") || strcmp(nm, "bn.weight") == 0 || strstr(nm, "running_var"))
            constant = 1;
        else if (strstr(nm, "out_proj.weight"))
            bound = 1 / sqrt(64.0);
        else   /* nn.Linear: weight and bias U(±1/√fan_in), fan_in = the weight's columns */
            bound = 1 / sqrt((double)(strncmp(nm, "embed", 5) == 0 ? 3 : strncmp(nm, "fc1", 3) == 0 ? 64 * C
                                      : strstr(nm, "linear2") ? 128 : 64));
        for (size_t j = 0; j < td->numel; j++) {
            maxabs = fmax(maxabs, fabs(v[j]));
            if (!isnan(constant))
                ck_assert_msg(v[j] == constant, "%s[%zu] = %g, want %g", nm, j, v[j], constant);
        }
        if (bound > 0) {
            ck_assert_msg(maxabs <= bound && (td->numel < 50 || maxabs > 0.9 * bound),
                          "%s: max |v| %g for bound %g", nm, maxabs, bound);
        }
    }
    /* same seed, same values; another seed, others */
    ck_assert_lf_ok(lf__samia_create(&t, ctx, C, 5));
    float *q = down(ctx, t->params, t->n_params);
    ck_assert(memcmp(p, q, s->n_params * sizeof *p) == 0);
    lf__samia_destroy(t);
    free(q);
    ck_assert_lf_ok(lf__samia_create(&t, ctx, C, 6));
    q = down(ctx, t->params, t->n_params);
    ck_assert(memcmp(p, q, s->n_params * sizeof *p) != 0);
    free(p), free(b), free(q);
    lf__samia_destroy(t);
    lf__samia_destroy(s);
    lf__samia_destroy(NULL);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(errors)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf__samia *s = (lf__samia *)1;
    ck_assert_lf_status(lf__samia_create(&s, ctx, 0, 1), LF_E_OUT_OF_RANGE);
    ck_assert_ptr_null(s);
    ck_assert_lf_status(lf__samia_create(NULL, ctx, 3, 1), LF_E_INVALID_ARG);
    ck_assert_lf_ok(lf__samia_create(&s, ctx, 3, 1));
    float *u = random_u(ctx, 4, 3, 1), *logits = dev(ctx, 8), *du = dev(ctx, 36);
    ck_assert_lf_status(lf__samia_backward(s, du, logits), LF_E_STATE);   /* no forward yet */
    ck_assert_lf_status(lf__samia_forward(s, logits, u, 1, 1, 0, 0), LF_E_INVALID_ARG);  /* batch stats of 1 */
    ck_assert_lf_status(lf__samia_forward(s, logits, u, 0, 0, 0, 0), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf__samia_forward(s, logits, u, 4, 1, 0, 1ull << 24), LF_E_OUT_OF_RANGE);
    ck_assert_lf_status(lf__samia_forward(s, NULL, u, 4, 1, 0, 0), LF_E_INVALID_ARG);
    ck_assert_lf_ok(lf__samia_forward(s, logits, u, 1, 0, 0, 0));   /* eval: one sample is fine */
    ck_assert_lf_ok(lf__samia_backward(s, NULL, logits));           /* du not wanted */
    lf__nn_dev_free(ctx, u), lf__nn_dev_free(ctx, logits), lf__nn_dev_free(ctx, du);
    lf__samia_destroy(s);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(dropout_is_reproducible)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf__samia *s = NULL;
    const int64_t n = 6, C = 3;
    ck_assert_lf_ok(lf__samia_create(&s, ctx, C, 2));
    float *u = random_u(ctx, n, C, 2), *out = dev(ctx, (size_t)(2 * n));
    float *l[5];
    const struct { int train; uint64_t seed, step; } runs[5] = {
        { 1, 7, 10 }, { 1, 7, 10 }, { 1, 7, 11 }, { 1, 8, 10 }, { 0, 7, 10 }
    };
    for (int k = 0; k < 5; k++) {
        ck_assert_lf_ok(lf__samia_forward(s, out, u, n, runs[k].train, runs[k].seed, runs[k].step));
        l[k] = down(ctx, out, (size_t)(2 * n));
    }
    ck_assert(memcmp(l[0], l[1], (size_t)(2 * n) * sizeof(float)) == 0);   /* same seed and step */
    ck_assert(memcmp(l[0], l[2], (size_t)(2 * n) * sizeof(float)) != 0);   /* another step */
    ck_assert(memcmp(l[0], l[3], (size_t)(2 * n) * sizeof(float)) != 0);   /* another seed */
    /* eval mode ignores seed and step (no dropout) */
    float *e2;
    ck_assert_lf_ok(lf__samia_forward(s, out, u, n, 0, 123, 456));
    e2 = down(ctx, out, (size_t)(2 * n));
    ck_assert(memcmp(l[4], e2, (size_t)(2 * n) * sizeof(float)) == 0);
    for (int k = 0; k < 5; k++)
        free(l[k]);
    free(e2);
    lf__nn_dev_free(ctx, u), lf__nn_dev_free(ctx, out);
    lf__samia_destroy(s);
    lf_context_destroy(ctx);
}
END_TEST

/* Mean softmax cross-entropy of logits against labels, and its gradient into dl (backend). */
static double xent(lf_context *ctx, float *dl, const float *logits, const int32_t *labels, int64_t n)
{
    float *loss = dev(ctx, (size_t)n), *probs = dev(ctx, (size_t)(2 * n));
    float *w = malloc((size_t)n * sizeof *w);
    for (int64_t i = 0; i < n; i++)
        w[i] = 1.0f / (float)n;
    ck_assert_lf_ok(LF__BE(ctx, softmax_xent_fwd, loss, probs, logits, labels, n, 2));
    ck_assert_lf_ok(LF__BE(ctx, softmax_xent_bwd, dl, probs, labels, w, n, 2));
    float *lh = down(ctx, loss, (size_t)n);
    double mean = 0;
    for (int64_t i = 0; i < n; i++)
        mean += lh[i] / (double)n;
    free(lh), free(w);
    lf__nn_dev_free(ctx, loss), lf__nn_dev_free(ctx, probs);
    return mean;
}

/* Members have a large first logit and the matching one-hot label; non-members a flat one:
 * train-mode Adam steps must bring the loss well down, and gradients reset with zero_grads. */
START_TEST(adam_learns_a_separable_problem)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf__samia *s = NULL;
    enum { N = 16, C = 2, STEPS = 30 };
    ck_assert_lf_ok(lf__samia_create(&s, ctx, C, 3));
    float uh[N * 3 * C];
    int32_t lab_h[N];
    unsigned long long seed = 9;
    for (int i = 0; i < N; i++) {
        int member = i % 2;
        lab_h[i] = member;
        for (int c = 0; c < C; c++) {
            uh[i * 3 * C + c] = (float)(member ? (c == 0 ? 3 : -3) : 0) + (float)(0.3 * lf_test_u01(&seed));
            uh[i * 3 * C + C + c] = c == 0 ? 1.0f : 0.0f;
            uh[i * 3 * C + 2 * C + c] = (float)(0.1 * lf_test_u01(&seed));
        }
    }
    float *u = dev(ctx, N * 3 * C), *logits = dev(ctx, 2 * N), *dl = dev(ctx, 2 * N);
    int32_t *labels = NULL;
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&labels, N, sizeof *labels, 0, "labels"));
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, u, uh, sizeof uh));
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, labels, lab_h, sizeof lab_h));
    double first = 0, last = 0;
    for (int step = 0; step < STEPS; step++) {
        ck_assert_lf_ok(lf__samia_zero_grads(s));
        ck_assert_lf_ok(lf__samia_forward(s, logits, u, N, 1, 1, (uint64_t)step));
        double loss = xent(ctx, dl, logits, labels, N);
        ck_assert_lf_ok(lf__samia_backward(s, NULL, dl));
        ck_assert_lf_ok(lf__samia_adam_step(s, 1e-3f));
        if (step == 0)
            first = loss;
        last = loss;
    }
    ck_assert_int_eq(s->adam_steps, STEPS);
    fprintf(stderr, "# samia: cross-entropy %.4f -> %.4f after %d Adam steps\n", first, last, STEPS);
    ck_assert_msg(last < 0.5 * first, "loss %.4f -> %.4f", first, last);
    /* zero_grads zeroes */
    ck_assert_lf_ok(lf__samia_zero_grads(s));
    float *g = down(ctx, s->grads, s->n_params);
    for (size_t k = 0; k < s->n_params; k++)
        ck_assert(g[k] == 0.0f);
    free(g);
    lf__nn_dev_free(ctx, u), lf__nn_dev_free(ctx, logits), lf__nn_dev_free(ctx, dl), lf__nn_dev_free(ctx, labels);
    lf__samia_destroy(s);
    lf_context_destroy(ctx);
}
END_TEST

static Suite *samia_suite(void)
{
    Suite *s = suite_create("samia");
    TCase *tc = tcase_create("samia");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, table_and_init);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, dropout_is_reproducible);
    tcase_add_test(tc, adam_learns_a_separable_problem);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(samia_suite)
