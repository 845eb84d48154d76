// How Docs/OneDNN.md measured attention-shaped products: OpenBLAS cblas_sgemm against oneDNN dnnl_sgemm, one
// thread, Q.K^T (L x L x 32) and P.V (L x 32 x L) with the packed batch strides (optional; not run in CI):
//   gcc -O2 Scripts/attention_sgemm_bench.c -o /tmp/att -fopenmp -ldnnl -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas
//   /tmp/att; env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /tmp/att
#include <dnnl.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <omp.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static float a[256*1152],b[256*1152],c[256*256];
int main(){ omp_set_num_threads(1); openblas_set_num_threads(1);
 for(int i=0;i<256*1152;i++){a[i]=(i%7)*0.1f;b[i]=(i%5)*0.1f;}
 int Ls[]={16,128,256};
 for(int li=0;li<3;li++){int L=Ls[li]; int N=L<=16?20000:2000; double t0,t1; double best[4]={1e9,1e9,1e9,1e9};
  for(int rep=0;rep<3;rep++){
   t0=now(); for(int r=0;r<N;r++) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasTrans,L,L,32,1,a,1152,b,1152,0,c,L); t1=now(); if((t1-t0)/N<best[0])best[0]=(t1-t0)/N;
   t0=now(); for(int r=0;r<N;r++) dnnl_sgemm('N','T',L,L,32,1,a,1152,b,1152,0,c,L); t1=now(); if((t1-t0)/N<best[1])best[1]=(t1-t0)/N;
   t0=now(); for(int r=0;r<N;r++) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,L,32,L,1,c,L,b,1152,0,a,1152); t1=now(); if((t1-t0)/N<best[2])best[2]=(t1-t0)/N;
   t0=now(); for(int r=0;r<N;r++) dnnl_sgemm('N','N',L,32,L,1,c,L,b,1152,0,a,1152); t1=now(); if((t1-t0)/N<best[3])best[3]=(t1-t0)/N;}
  printf("L=%d QK^T openblas %.2f us dnnl %.2f us | PV openblas %.2f us dnnl %.2f us (%s)\n",L,best[0]*1e6,best[1]*1e6,best[2]*1e6,best[3]*1e6,openblas_get_corename());}
}
