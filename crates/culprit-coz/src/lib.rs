//! Progress points for causal profiling, for Rust programs: `progress!()` counts a unit of
//! work, `begin!("name")`/`end!("name")` bracket a latency region. Like coz.h, the
//! counters are found at first use through `dlsym("_coz_get_counter")`, which both
//! `culprit causal`'s runtime and coz export; without a profiler each macro costs one
//! relaxed atomic load. This crate has no dependencies so a program can also include it by
//! path.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// coz.h's counter kind for throughput progress points.
pub const THROUGHPUT: c_int = 1;
/// coz.h's counter kind for the start of a latency region.
pub const BEGIN: c_int = 2;
/// coz.h's counter kind for the end of a latency region.
pub const END: c_int = 3;

/// The counter layout coz.h declares: a count and an unused backoff word.
#[repr(C)]
pub struct Counter {
    count: AtomicUsize,
    backoff: usize,
}

unsafe extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

type GetCounter = unsafe extern "C" fn(c_int, *const c_char) -> *mut Counter;

/// Marks a counter slot not looked up yet (null means "looked up, no profiler").
const UNSET: *mut Counter = std::ptr::dangling_mut::<Counter>();

/// One progress point's cached counter; used by the macros.
pub struct Point {
    counter: AtomicPtr<Counter>,
}

impl Point {
    /// An unresolved point.
    pub const fn new() -> Self {
        Self {
            counter: AtomicPtr::new(UNSET),
        }
    }

    /// Counts one visit. `name` must end with a NUL byte.
    pub fn visit(&self, kind: c_int, name: &'static str) {
        let mut c = self.counter.load(Ordering::Relaxed);
        if c == UNSET {
            c = lookup(kind, name);
            self.counter.store(c, Ordering::Relaxed);
        }
        if !c.is_null() {
            // SAFETY: the profiler's counters live for the whole process.
            unsafe { (*c).count.fetch_add(1, Ordering::Relaxed) };
        }
    }
}

impl Default for Point {
    fn default() -> Self {
        Self::new()
    }
}

fn lookup(kind: c_int, name: &'static str) -> *mut Counter {
    if !name.ends_with('\0') {
        return std::ptr::null_mut();
    }
    // RTLD_DEFAULT is the null handle on glibc.
    // SAFETY: dlsym with a NUL-terminated symbol name.
    let f = unsafe { dlsym(std::ptr::null_mut(), c"_coz_get_counter".as_ptr()) };
    if f.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: `_coz_get_counter` has coz.h's signature.
    let get: GetCounter = unsafe { std::mem::transmute::<*mut c_void, GetCounter>(f) };
    // SAFETY: `name` is NUL-terminated and static.
    unsafe { get(kind, name.as_ptr().cast()) }
}

/// Counts one unit of progress, named after the call site (`file:line`) or the given name.
#[macro_export]
macro_rules! progress {
    () => {
        $crate::progress!(concat!(file!(), ":", line!()))
    };
    ($name:expr) => {{
        static POINT: $crate::Point = $crate::Point::new();
        POINT.visit($crate::THROUGHPUT, concat!($name, "\0"));
    }};
}

/// Marks the start of a latency region named `name`.
#[macro_export]
macro_rules! begin {
    ($name:expr) => {{
        static POINT: $crate::Point = $crate::Point::new();
        POINT.visit($crate::BEGIN, concat!($name, "\0"));
    }};
}

/// Marks the end of a latency region named `name`.
#[macro_export]
macro_rules! end {
    ($name:expr) => {{
        static POINT: $crate::Point = $crate::Point::new();
        POINT.visit($crate::END, concat!($name, "\0"));
    }};
}

#[cfg(test)]
mod tests {
    #[test]
    fn without_a_profiler_the_macros_are_no_ops() {
        for _ in 0..3 {
            crate::progress!();
            crate::progress!("named");
            crate::begin!("req");
            crate::end!("req");
        }
    }
}
