/* Avg. Disparity: the mean absolute gap to Retrain over the four headline metrics. */
#include <math.h>
#include <stddef.h>

#include "core/eval/eval_internal.h"

/* The fields read here all lie in the first published layout. */
#define METRICS_MIN_SIZE (offsetof(lf_metrics, mia_efficacy) + sizeof(double))

lf_status lf_metrics_disparity(double *disparity, const lf_metrics *metrics, const lf_metrics *retrain)
{
    LF__CHECK_ARG(disparity, "lf_metrics_disparity: disparity is NULL");
    *disparity = NAN;
    LF__CHECK_ARG(metrics, "lf_metrics_disparity: metrics is NULL");
    LF__CHECK_ARG(retrain, "lf_metrics_disparity: retrain is NULL");
    const lf_metrics *both[2] = { metrics, retrain };
    for (int i = 0; i < 2; i++)
        if (both[i]->struct_size < METRICS_MIN_SIZE || both[i]->struct_size % 4)
            return lf__error(LF_E_ABI, "lf_metrics_disparity: %s->struct_size = %u (at least %zu)",
                             i ? "retrain" : "metrics", (unsigned)both[i]->struct_size,
                             (size_t)METRICS_MIN_SIZE);
    static const char *const names[4] = { "ua", "mia_efficacy", "ra", "ta" };
    double m[4] = { metrics->ua, metrics->mia_efficacy, metrics->ra, metrics->ta };
    double r[4] = { retrain->ua, retrain->mia_efficacy, retrain->ra, retrain->ta };
    double sum = 0.0;
    for (int k = 0; k < 4; k++) {
        if (!isfinite(m[k]) || !isfinite(r[k]))
            return lf__error(LF_E_NUMERIC, "lf_metrics_disparity: %s is %g (method) and %g (retrain)",
                             names[k], m[k], r[k]);
        sum += fabs(m[k] - r[k]);
    }
    *disparity = sum / 4.0;
    return LF_OK;
}
