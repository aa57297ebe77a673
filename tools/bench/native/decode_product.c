/*
 * The native peer of gemel's decode product (benchmark section native-product): y = W x for one token, W
 * [rows, in] stored as F32, BF16 or F16 and read once, widened to fp32 in registers, summed in fp32. Written as
 * a C programmer would write it for this processor: AVX-512 intrinsics, one pthread per core, each thread
 * walking its rows as four streams (its block's four quarters, as gemel's tasks do). gemel.bench.NativeProductBench
 * calls it through the FFM API on the same weight bytes as gemel's MatMul, in turns with it.
 *
 *   gcc -O2 -march=native -pthread -shared -fPIC -o libgemel-native-product.so decode_product.c
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>

enum { F32 = 0, BF16 = 1, F16 = 2, DOT_BF16 = 3 };
enum { STREAMS = 4, MAX_THREADS = 64, LANES = 16 };

typedef struct {
    int kind;
    const char *w;
    long in, r0, r1;
    const float *x;
    const uint16_t *xb; /* DOT_BF16: x rounded to bf16 */
    float *y;
    double sum;         /* read: the sum, so the loads are not dropped */
} Task;

static inline __attribute__((always_inline)) __m512 widen(int kind, const char *w, long i) {
    switch (kind) {
    case F32: return _mm512_loadu_ps((const float *) w + i);
    case BF16: return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *) ((const uint16_t *) w + i))), 16));
    default: return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) ((const uint16_t *) w + i)));
    }
}

/* Rows r0 .. r1 of the thread, as four streams of span rows each; kind a constant in each caller below. */
static inline __attribute__((always_inline)) void product_of(const Task *t, int kind) {
    long span = (t->r1 - t->r0) / STREAMS, in = t->in;
    int bytes = kind == F32 ? 4 : 2;
    for (long j = 0; j < span; j++) {
        const char *q0 = t->w + (t->r0 + j) * in * bytes, *q1 = q0 + span * in * bytes, *q2 = q1 + span * in * bytes, *q3 = q2 + span * in * bytes;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (long i = 0; i < in; i += LANES) {
            __m512 v = _mm512_loadu_ps(t->x + i);
            a0 = _mm512_fmadd_ps(v, widen(kind, q0, i), a0);
            a1 = _mm512_fmadd_ps(v, widen(kind, q1, i), a1);
            a2 = _mm512_fmadd_ps(v, widen(kind, q2, i), a2);
            a3 = _mm512_fmadd_ps(v, widen(kind, q3, i), a3);
        }
        t->y[t->r0 + j] = _mm512_reduce_add_ps(a0);
        t->y[t->r0 + span + j] = _mm512_reduce_add_ps(a1);
        t->y[t->r0 + 2 * span + j] = _mm512_reduce_add_ps(a2);
        t->y[t->r0 + 3 * span + j] = _mm512_reduce_add_ps(a3);
    }
}

static void product(const Task *t) {
    switch (t->kind) {
    case F32: product_of(t, F32); break;
    case BF16: product_of(t, BF16); break;
    default: product_of(t, F16);
    }
}

/* The processor's own bf16 dot instruction (x rounded to bf16, pairs summed in fp32): a ceiling, not gemel's numerics. */
__attribute__((target("avx512bf16,avx512f")))
static void dot_bf16(const Task *t) {
    long span = (t->r1 - t->r0) / STREAMS, in = t->in;
    for (long j = 0; j < span; j++) {
        const uint16_t *q0 = (const uint16_t *) t->w + (t->r0 + j) * in, *q1 = q0 + span * in, *q2 = q1 + span * in, *q3 = q2 + span * in;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (long i = 0; i < in; i += 2 * LANES) {
            __m512bh v = (__m512bh) _mm512_loadu_si512(t->xb + i);
            a0 = _mm512_dpbf16_ps(a0, (__m512bh) _mm512_loadu_si512(q0 + i), v);
            a1 = _mm512_dpbf16_ps(a1, (__m512bh) _mm512_loadu_si512(q1 + i), v);
            a2 = _mm512_dpbf16_ps(a2, (__m512bh) _mm512_loadu_si512(q2 + i), v);
            a3 = _mm512_dpbf16_ps(a3, (__m512bh) _mm512_loadu_si512(q3 + i), v);
        }
        t->y[t->r0 + j] = _mm512_reduce_add_ps(a0);
        t->y[t->r0 + span + j] = _mm512_reduce_add_ps(a1);
        t->y[t->r0 + 2 * span + j] = _mm512_reduce_add_ps(a2);
        t->y[t->r0 + 3 * span + j] = _mm512_reduce_add_ps(a3);
    }
}

/* Floats r0 .. r1 summed as four streams (the range's quarters), the way product() reads its rows. */
static void read_range(Task *t) {
    long quarter = (t->r1 - t->r0) / STREAMS;
    const float *p0 = (const float *) t->w + t->r0, *p1 = p0 + quarter, *p2 = p1 + quarter, *p3 = p2 + quarter;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (long i = 0; i < quarter; i += LANES) {
        a0 = _mm512_add_ps(a0, _mm512_loadu_ps(p0 + i));
        a1 = _mm512_add_ps(a1, _mm512_loadu_ps(p1 + i));
        a2 = _mm512_add_ps(a2, _mm512_loadu_ps(p2 + i));
        a3 = _mm512_add_ps(a3, _mm512_loadu_ps(p3 + i));
    }
    t->sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

static void *run(void *arg) {
    Task *t = arg;
    if (t->kind < 0) read_range(t);
    else if (t->kind == DOT_BF16) dot_bf16(t);
    else product(t);
    return 0;
}

/* Splits [0, n) over the threads in multiples of `unit`; the calling thread takes the first part. */
static int fan_out(Task *tasks, int threads, long n, long unit) {
    if (threads < 1 || threads > MAX_THREADS || n % (unit * threads) != 0) return -1;
    pthread_t ids[MAX_THREADS];
    for (int k = 0; k < threads; k++) {
        tasks[k] = tasks[0];
        tasks[k].r0 = n / threads * k;
        tasks[k].r1 = n / threads * (k + 1);
    }
    for (int k = 1; k < threads; k++)
        if (pthread_create(&ids[k], 0, run, &tasks[k]) != 0) return -3;
    run(&tasks[0]);
    for (int k = 1; k < threads; k++) pthread_join(ids[k], 0);
    return 0;
}

/*
 * y[0 .. rows) = W x. kind: 0 F32, 1 BF16, 2 F16, 3 the bf16 dot instruction on BF16 weights. rows a multiple of
 * 4 x threads, in of 32. Returns 0; -1 for a shape it does not take; -2 when the processor lacks the bf16 dot.
 */
int gemel_native_product(int kind, const void *w, long rows, long in, const float *x, float *y, int threads) {
    if (kind < F32 || kind > DOT_BF16 || in % (2 * LANES) != 0) return -1;
    Task tasks[MAX_THREADS] = {{.kind = kind, .w = w, .in = in, .x = x, .y = y}};
    uint16_t xb[in];
    if (kind == DOT_BF16) {
        __builtin_cpu_init();
        if (!__builtin_cpu_supports("avx512bf16")) return -2;
        for (long i = 0; i < in; i++) { /* round to nearest even, as the instruction's own conversion does */
            union { float f; uint32_t u; } v = {.f = x[i]};
            xb[i] = (uint16_t) ((v.u + 0x7FFF + ((v.u >> 16) & 1)) >> 16);
        }
        tasks[0].xb = xb;
    }
    return fan_out(tasks, threads, rows, STREAMS);
}

/* *sum = the sum of `floats` floats at data, read by `threads` threads; floats a multiple of 64 x threads. Returns 0, or -1. */
int gemel_native_read(const float *data, long floats, int threads, double *sum) {
    Task tasks[MAX_THREADS] = {{.kind = -1, .w = (const char *) data}};
    int status = fan_out(tasks, threads, floats, 4 * LANES);
    *sum = 0;
    for (int k = 0; status == 0 && k < threads; k++) *sum += tasks[k].sum;
    return status;
}
