// GCC's -fsanitize-coverage=trace-cmp also traces floating-point comparisons; libFuzzer has no
// callbacks for them, so they are accepted and ignored here.
extern "C" {
void __sanitizer_cov_trace_cmpf(float, float) {}
void __sanitizer_cov_trace_cmpd(double, double) {}
}
