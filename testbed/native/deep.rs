//! A release build without frame pointers whose hot loop sits four calls deep, to check
//! that DWARF unwinding recovers the whole stack. Usage: deep ITERATIONS

use std::hint::black_box;

#[inline(never)]
fn hot_leaf(n: u64) -> u64 {
    let mut x = black_box(1u64);
    for i in 0..n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
    }
    x
}

#[inline(never)]
fn level_three(n: u64) -> u64 {
    black_box(hot_leaf(black_box(n))) ^ 3
}

#[inline(never)]
fn level_two(n: u64) -> u64 {
    black_box(level_three(black_box(n))) ^ 2
}

#[inline(never)]
fn level_one(n: u64) -> u64 {
    black_box(level_two(black_box(n))) ^ 1
}

fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000_000);
    println!("{}", level_one(n));
}
