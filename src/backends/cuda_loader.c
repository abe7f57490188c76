/* Finds and loads the CUDA backend module (libforget-cuda.so) the first time the CUDA backend
 * is asked for, so programs that never ask never load cudart or cuBLAS (cuda/cuda_module.h
 * says why). First the NVIDIA driver is asked, through libcuda.so.1 alone, whether there is a
 * device at all: on a machine without one the module and its ~600 MB of libraries are never
 * loaded. Then the module; where it looks, first hit wins:
 *   1. $LF_CUDA_MODULE: the module's path ("none" turns the CUDA backend off);
 *   2. the folder of the file holding this code (libforget.so's, or a program's that links
 *      the library statically);
 *   3. the dynamic loader's search path (libforget-cuda.so.<ABI version>).
 * A module that fails to load leaves the reason for lf__backend_cuda_unavailable(). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lf_config.h"
#include "core/internal.h"
#if LF_HAVE_CUDA
#include "backends/cuda/cuda_module.h"
#endif

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const lf__backend_iface *loaded;
static char why_not[512] = "the library was built without CUDA (nvcc and cuBLAS not found)";

#if LF_HAVE_CUDA
static const lf__cuda_services services = {
    .version = LF__CUDA_SERVICES_VERSION,
    .error_v = lf__error_v,
};

/* dlopen path, or the failure appended to why_not */
static void *open_module(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *err = dlerror();
        size_t used = strlen(why_not);
        snprintf(why_not + used, sizeof why_not - used, "%s%s", used ? "; " : "",
                 err ? err : path);
    }
    return h;
}

static void *find_module(void)
{
    why_not[0] = '\0';
    const char *env = getenv("LF_CUDA_MODULE");
    if (env && *env)
        return open_module(env);
    Dl_info self;
    if (dladdr((void *)&lf__backend_cuda_iface, &self) && self.dli_fname) {
        const char *slash = strrchr(self.dli_fname, '/');
        if (slash) {
            char path[4096];
            int len = snprintf(path, sizeof path, "%.*s/%s", (int)(slash - self.dli_fname),
                               self.dli_fname, LF__CUDA_MODULE_FILE);
            if (len > 0 && (size_t)len < sizeof path) {
                void *h = open_module(path);
                if (h)
                    return h;
            }
        }
    }
    return open_module(LF__CUDA_MODULE_FILE);
}

/* The number of CUDA devices the driver reports; 0 with the reason in why_not when there is no
 * driver library, it fails to initialise, or it sees no device. */
static int count_devices(void)
{
    void *drv = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!drv) {
        snprintf(why_not, sizeof why_not, "no NVIDIA driver on this machine (%s)",
                 dlerror());
        return 0;
    }
    int (*cu_init)(unsigned) = NULL;            /* CUresult cuInit(unsigned flags) */
    int (*cu_device_count)(int *) = NULL;       /* CUresult cuDeviceGetCount(int *count) */
    *(void **)&cu_init = dlsym(drv, "cuInit");  /* POSIX's way to a function pointer */
    *(void **)&cu_device_count = dlsym(drv, "cuDeviceGetCount");
    int count = 0, rc = -1;
    if (cu_init && cu_device_count && (rc = cu_init(0)) == 0)
        rc = cu_device_count(&count);
    if (rc != 0 || count <= 0)
        snprintf(why_not, sizeof why_not, "the NVIDIA driver reports no usable CUDA device (%s %d)",
                 rc != 0 ? "error" : "devices", rc != 0 ? rc : count);
    /* the driver stays loaded: the CUDA runtime will use it */
    return rc == 0 ? count : 0;
}

static void load(void)
{
    const char *env = getenv("LF_CUDA_MODULE");
    if (env && strcmp(env, "none") == 0) {
        snprintf(why_not, sizeof why_not, "turned off by LF_CUDA_MODULE=none");
        return;
    }
    if (count_devices() <= 0)
        return;
    void *h = find_module();
    if (!h)
        return;
    lf__cuda_module_entry_fn entry;
    *(void **)&entry = dlsym(h, LF__CUDA_MODULE_ENTRY);   /* POSIX's way to a function pointer */
    const lf__backend_iface *b = entry ? entry(&services) : NULL;
    if (!b || b->iface_version != LF__BACKEND_IFACE_VERSION) {
        snprintf(why_not, sizeof why_not, "%s is from another libforget version",
                 LF__CUDA_MODULE_FILE);
        dlclose(h);
        return;
    }
    loaded = b;   /* the module stays loaded for the life of the process */
}
#else
static void load(void)
{
}
#endif

const lf__backend_iface *lf__backend_cuda_iface(void)
{
    pthread_once(&load_once, load);
    return loaded;
}

const char *lf__backend_cuda_unavailable(void)
{
    pthread_once(&load_once, load);
    return loaded ? "the CUDA runtime finds no usable device" : why_not;
}
