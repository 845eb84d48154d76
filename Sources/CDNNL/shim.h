// oneDNN's C API (Debian bookworm: libdnnl-dev 2.6.3, built on OpenMP) and the two OpenMP calls the encoder
// needs to keep oneDNN single-threaded inside its own worker threads (omp.h is not on the default include path
// of every toolchain, so the two declarations are repeated here; libgomp provides them).
#include <oneapi/dnnl/dnnl.h>

int omp_get_max_threads(void);
void omp_set_num_threads(int);
