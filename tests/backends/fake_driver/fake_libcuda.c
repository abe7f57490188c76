/* A stand-in for the NVIDIA driver's libcuda.so.1 that claims one device, so the CUDA module's
 * loading can be tested on a machine without a GPU (test_cuda_module.c). It has only the two
 * functions cuda_loader.c asks for; the CUDA runtime, finding nothing else in it, reports no
 * usable driver, which is what the test expects of the backend's probe. */
int cuInit(unsigned flags);
int cuDeviceGetCount(int *count);

int cuInit(unsigned flags)
{
    (void)flags;
    return 0;
}

int cuDeviceGetCount(int *count)
{
    *count = 1;
    return 0;
}
