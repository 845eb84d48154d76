// How Docs/OneDNN.md measured rows split over reordered weights against columns split over plain weights
// (optional; not built by SwiftPM, not run in CI). The 24 dense shapes of all-MiniLM-L6-v2 (6 layers x
// 384x1152, 384x384, 384x1536, 1536x384), distinct weights per layer, one product after another on 2 threads
// (this thread and one spinning worker), oneDNN single-threaded in each:
//   gcc -O2 Scripts/onednn_split_bench.c -o /tmp/split -fopenmp -ldnnl -lpthread && /tmp/split 16   (rows per pass)
// Modes: row-blocked (rows split, weights in the layout oneDNN picks), column-plain-strided (columns split,
// plain Wt read in place, strided output: what the encoder runs), row-plain (rows split, plain weights).
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define CHK(x) do{dnnl_status_t s=(x); if(s!=dnnl_success){printf("fail %s %d line %d\n",#x,s,__LINE__);exit(1);}}while(0)
dnnl_engine_t eng;
typedef struct { dnnl_primitive_t p; dnnl_memory_desc_t a,c; } prim;
prim make(int m,int n,int k,int ldc, dnnl_memory_desc_t* wout, const char** impl, int plain){
  prim r; dnnl_memory_desc_t b; dnnl_dims_t ad={m,k}, bd={k,n}, cd={m,n}, cs={ldc,1};
  CHK(dnnl_memory_desc_init_by_tag(&r.a,2,ad,dnnl_f32,dnnl_ab));
  CHK(dnnl_memory_desc_init_by_tag(&b,2,bd,dnnl_f32,plain?dnnl_ab:dnnl_format_tag_any));
  CHK(dnnl_memory_desc_init_by_strides(&r.c,2,cd,dnnl_f32,cs));
  dnnl_matmul_desc_t md; CHK(dnnl_matmul_desc_init(&md,&r.a,&b,NULL,&r.c));
  dnnl_primitive_desc_t pd; CHK(dnnl_primitive_desc_create(&pd,&md,NULL,eng,NULL));
  dnnl_primitive_desc_query(pd,dnnl_query_impl_info_str,0,impl);
  *wout=*dnnl_primitive_desc_query_md(pd,dnnl_query_weights_md,0);
  CHK(dnnl_primitive_create(&r.p,pd)); return r;
}
int M=16; int NL=24; int KS[4]={384,384,384,1536}, NS[4]={1152,384,1536,384};
prim full[4], half[4], fullp[4]; dnnl_memory_t wfull[24], whalf[24][2], wplain[24];
float *x, *y[2];
atomic_int go, done; int mode;
dnnl_stream_t streams[2];
void run_product(int t,int l){
  int s=l%4; int k=KS[s], n=NS[s];
  dnnl_memory_t ma,mc; 
  if(mode==0||mode==2){ // row split
    prim*p=mode==0?&full[s]:&fullp[s]; CHK(dnnl_memory_create(&ma,&p->a,eng,x+t*(M/2)*k)); CHK(dnnl_memory_create(&mc,&p->c,eng,y[0]+t*(M/2)*n));
    dnnl_exec_arg_t args[3]={{DNNL_ARG_SRC,ma},{DNNL_ARG_WEIGHTS,mode==0?wfull[l]:wplain[l]},{DNNL_ARG_DST,mc}};
    CHK(dnnl_primitive_execute(p->p,streams[t],3,args));
  } else {
    prim*p=&half[s]; CHK(dnnl_memory_create(&ma,&p->a,eng,x)); CHK(dnnl_memory_create(&mc,&p->c,eng,y[0]+t*(n/2)));
    dnnl_exec_arg_t args[3]={{DNNL_ARG_SRC,ma},{DNNL_ARG_WEIGHTS,whalf[l][t]},{DNNL_ARG_DST,mc}};
    CHK(dnnl_primitive_execute(p->p,streams[t],3,args));
  }
  dnnl_memory_destroy(ma); dnnl_memory_destroy(mc);
}
void* worker(void*_){ omp_set_num_threads(1); int seen=0; while(1){ int g; while((g=atomic_load(&go))==seen); if(g<0) return NULL; seen=g; run_product(1,(g-1)%NL); atomic_fetch_add(&done,1);} }
int main(int argc,char**argv){ omp_set_num_threads(1); M=atoi(argv[1]); CHK(dnnl_engine_create(&eng,dnnl_cpu,0));
  for(int t=0;t<2;t++) CHK(dnnl_stream_create(&streams[t],eng,dnnl_stream_default_flags));
  const char* impl; dnnl_memory_desc_t wf[4], wh[4], wp[4];
  for(int s=0;s<4;s++){ full[s]=make(M/2,NS[s],KS[s],NS[s],&wf[s],&impl,0); printf("full %s ",impl); half[s]=make(M,NS[s]/2,KS[s],NS[s],&wh[s],&impl,1); printf("half %s ",impl); fullp[s]=make(M/2,NS[s],KS[s],NS[s],&wp[s],&impl,1); printf("half %s\n",impl);}
  for(int l=0;l<NL;l++){int s=l%4; CHK(dnnl_memory_create(&wfull[l],&wf[s],eng,DNNL_MEMORY_ALLOCATE)); CHK(dnnl_memory_create(&wplain[l],&wp[s],eng,DNNL_MEMORY_ALLOCATE)); {void*q; dnnl_memory_get_data_handle(wplain[l],&q); memset(q,0,dnnl_memory_desc_get_size(&wp[s]));} for(int h=0;h<2;h++) CHK(dnnl_memory_create(&whalf[l][h],&wh[s],eng,DNNL_MEMORY_ALLOCATE));
    void*p; dnnl_memory_get_data_handle(wfull[l],&p); memset(p,0,dnnl_memory_desc_get_size(&wf[s]));
    for(int h=0;h<2;h++){dnnl_memory_get_data_handle(whalf[l][h],&p); memset(p,0,dnnl_memory_desc_get_size(&wh[s]));}}
  x=aligned_alloc(64,4*M*1536); memset(x,0,4*M*1536); y[0]=aligned_alloc(64,4*M*1536); y[1]=aligned_alloc(64,4*M*1536);
  pthread_t th; pthread_create(&th,NULL,worker,NULL);
  int gen=0;
  for(int rep=0;rep<2;rep++) for(int md=0;md<3;md++){ mode=md; double best=1e9;
    for(int r=0;r<5;r++){ double t0=now(); int P=200;
      for(int pass=0;pass<P;pass++) for(int l=0;l<NL;l++){ atomic_store(&done,0); atomic_store(&go,++gen); run_product(0,l); while(atomic_load(&done)<1); }
      double t=(now()-t0)/P; if(t<best) best=t; }
    printf("M=%d mode %s: %.3f ms per 24 products\n",M,mode==1?"column-plain-strided":mode==2?"row-plain":"row-blocked",best*1e3);}
  atomic_store(&go,-1); pthread_join(th,NULL);
}
