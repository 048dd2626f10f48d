//! The oracle the scheduling tests share.

use decide_sched::Instance;

/// The least cost over all n! orders (Heap's algorithm).
pub fn brute_force(instance: &Instance) -> i64 {
    let n = instance.n_jobs();
    let mut order: Vec<usize> = (0..n).collect();
    let mut best = instance.objective(&order);
    let mut c = vec![0usize; n];
    let mut i = 0;
    while i < n {
        if c[i] < i {
            if i % 2 == 0 {
                order.swap(0, i);
            } else {
                order.swap(c[i], i);
            }
            best = best.min(instance.objective(&order));
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    best
}
