//! Preloaded into a program by `culprit causal`, this library runs coz's experiment loop:
//! it samples every thread's CPU time, picks a source line in proportion to its samples,
//! virtually speeds it up by pausing every other thread whenever that line runs, and
//! records how fast the program's progress points advance. Programs built against
//! `coz.h` find their counters through the exported `_coz_get_counter`.
//!
//! Only libc is used, and nothing that can run inside the signal handler allocates or
//! locks.

mod config;
mod counters;
mod delay;
mod interpose;
mod objects;
mod output;
mod profiler;
mod sampler;
mod table;

/// Runs before the program's `main`: reads the configuration, starts sampling the main
/// thread and launches the experiment thread.
extern "C" fn init() {
    profiler::start();
}

/// Runs at normal exit: writes the last samples and the shutdown record.
extern "C" fn fini() {
    profiler::finish();
}

#[used]
#[unsafe(link_section = ".init_array")]
static INIT: extern "C" fn() = init;

#[used]
#[unsafe(link_section = ".fini_array")]
static FINI: extern "C" fn() = fini;
