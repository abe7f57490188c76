/* The context: options with defaults resolved, the backend instance, child reference count. */
#include <string.h>
#include <unistd.h>

#include "libforget/version.h"
#include "core/internal.h"

lf_status lf_context_options_init(lf_context_options *opts, size_t struct_size)
{
    LF__CHECK_ARG(opts, "lf_context_options_init: opts is NULL");
    LF__CHECK_ARG(struct_size >= 8 && struct_size % 4 == 0,
                  "lf_context_options_init: struct_size %zu is invalid", struct_size);
    lf_context_options def = LF_CONTEXT_OPTIONS_INIT;
    memset(opts, 0, struct_size);
    memcpy(opts, &def, struct_size < sizeof def ? struct_size : sizeof def);
    opts->struct_size = (uint32_t)struct_size;
    return LF_OK;
}

static int32_t online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int32_t)n : 1;
}

static lf_status resolve_backend(int32_t requested, const lf__backend_iface **out)
{
    if (requested == LF_BACKEND_AUTO) {
        const lf__backend_iface *cpu = lf__backend_find(LF_BACKEND_CPU);
        *out = (cpu && cpu->probe()) ? cpu : lf__backend_find(LF_BACKEND_REFERENCE);
        return LF_OK;
    }
    if (requested < LF_BACKEND_REFERENCE || requested > LF_BACKEND_CUDA)
        return lf__error(LF_E_INVALID_ARG, "lf_context_create: backend %d is not an lf_backend_kind",
                         (int)requested);
    const lf__backend_iface *b = lf__backend_find(requested);
    if (!b && requested == LF_BACKEND_CUDA)
        return lf__error(LF_E_UNSUPPORTED, "lf_context_create: backend 'cuda' is not available: %s",
                         lf__backend_cuda_unavailable());
    if (!b)
        return lf__error(LF_E_UNSUPPORTED, "lf_context_create: backend '%s' is not built into this library",
                         lf_backend_name((lf_backend_kind)requested));
    if (!b->probe())
        return lf__error(LF_E_UNSUPPORTED, "lf_context_create: backend '%s' is not usable on this machine%s%s",
                         b->name, requested == LF_BACKEND_CUDA ? ": " : "",
                         requested == LF_BACKEND_CUDA ? lf__backend_cuda_unavailable() : "");
    *out = b;
    return LF_OK;
}

lf_status lf_context_create(lf_context **out, const lf_context_options *opts)
{
    LF__CHECK_ARG(out, "lf_context_create: out is NULL");
    *out = NULL;
    lf_context_options o;
    LF__TRY(lf__copy_struct_in(&o, sizeof o, opts, offsetof(lf_context_options, allocator) + 8,
                               "lf_context_options"));
    if (o.threads < 0)
        return lf__error(LF_E_OUT_OF_RANGE, "lf_context_options.threads = %d: must be >= 0 (0 = all cores)",
                         (int)o.threads);
    if (o.log_level < LF_LOG_DEBUG || o.log_level > LF_LOG_NONE)
        return lf__error(LF_E_OUT_OF_RANGE, "lf_context_options.log_level = %d: must be in [%d, %d]",
                         (int)o.log_level, LF_LOG_DEBUG, LF_LOG_NONE);
    if (!o.allocator.alloc != !o.allocator.free)
        return lf__error(LF_E_INVALID_ARG, "lf_context_options.allocator: set both alloc and free, or neither");

    const lf__backend_iface *iface = NULL;
    LF__TRY(resolve_backend(o.backend, &iface));

    /* the context itself comes from the caller's allocator too */
    lf_context allocator_only = { .opts = o };
    lf_context *ctx = lf__alloc(&allocator_only, sizeof *ctx, "the context");
    if (!ctx)
        return LF_E_NOMEM;
    memset(ctx, 0, sizeof *ctx);
    atomic_init(&ctx->refs, 1);
    ctx->opts = o;
    ctx->opts.backend = iface->kind;
    ctx->threads = o.threads ? o.threads : online_cores();
    ctx->opts.threads = ctx->threads;

    lf__backend_config cfg = { .threads = ctx->threads, .allocator = &ctx->opts.allocator };
    ctx->backend.iface = iface;
    lf_status st = iface->create(&ctx->backend.priv, &cfg);
    if (st != LF_OK) {
        lf__error_prefix("lf_context_create: backend '%s'", iface->name);
        lf__free(ctx, ctx, sizeof *ctx);
        return st;
    }
    lf__log(ctx, LF_LOG_INFO, "libforget %s: backend %s, %d threads, seed %llu", LF_VERSION_STRING,
            iface->name, (int)ctx->threads, (unsigned long long)ctx->opts.seed);
    *out = ctx;
    return LF_OK;
}

static void context_free(lf_context *ctx)
{
    ctx->backend.iface->destroy(ctx->backend.priv);
    lf__free(ctx, ctx, sizeof *ctx);
}

void lf_context_destroy(lf_context *ctx)
{
    if (!ctx)
        return;
    int64_t children = atomic_load(&ctx->refs) - 1;
    if (children > 0)
        lf__log(ctx, LF_LOG_ERROR,
                "lf_context_destroy: %lld models or data sets still use this context; it will be "
                "freed when the last of them is destroyed", (long long)children);
    lf__context_release(ctx);   /* the caller's reference */
}

void lf__context_retain(lf_context *ctx)
{
    atomic_fetch_add(&ctx->refs, 1);
}

void lf__context_release(lf_context *ctx)
{
    if (atomic_fetch_sub(&ctx->refs, 1) == 1)
        context_free(ctx);
}

lf_backend_kind lf_context_backend(const lf_context *ctx)
{
    return ctx ? (lf_backend_kind)ctx->backend.iface->kind : LF_BACKEND_AUTO;
}

int32_t lf_context_threads(const lf_context *ctx)
{
    return ctx ? ctx->threads : 0;
}

uint64_t lf_context_seed(const lf_context *ctx)
{
    return ctx ? ctx->opts.seed : 0;
}

void lf_context_set_user_data(lf_context *ctx, void *user_data)
{
    if (ctx)
        ctx->user_data = user_data;
}

void *lf_context_get_user_data(const lf_context *ctx)
{
    return ctx ? ctx->user_data : NULL;
}

const char *lf_backend_name(lf_backend_kind kind)
{
    switch (kind) {
    case LF_BACKEND_AUTO: return "auto";
    case LF_BACKEND_REFERENCE: return "reference";
    case LF_BACKEND_CPU: return "cpu";
    case LF_BACKEND_CUDA: return "cuda";
    default: return "unknown";
    }
}

lf_status lf_backend_from_name(const char *name, lf_backend_kind *out)
{
    LF__CHECK_ARG(name && out, "lf_backend_from_name: NULL argument");
    static const lf_backend_kind kinds[] = { LF_BACKEND_AUTO, LF_BACKEND_REFERENCE, LF_BACKEND_CPU,
                                             LF_BACKEND_CUDA };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(name, lf_backend_name(kinds[i])) == 0) {
            *out = kinds[i];
            return LF_OK;
        }
    return lf__error(LF_E_INVALID_ARG, "unknown backend '%s' (expected auto, reference, cpu or cuda)", name);
}

int lf_backend_is_available(lf_backend_kind kind)
{
    const lf__backend_iface *b = lf__backend_find(kind == LF_BACKEND_AUTO ? LF_BACKEND_REFERENCE : kind);
    return b && b->probe();
}
