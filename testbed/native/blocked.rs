//! Threads that block: LOCKERS on a std Mutex held by main, READERS in read() on a pipe.
//! Prints "ready", waits for a line on stdin, releases everyone, prints "done".
//! Usage: blocked LOCKERS READERS

use std::io::{BufRead, Read, Write};
use std::sync::{Arc, Mutex};

#[inline(never)]
fn take_big_lock(lock: &Mutex<u64>) {
    *lock.lock().unwrap_or_else(|e| e.into_inner()) += 1;
}

#[inline(never)]
fn wait_for_input(mut r: std::io::PipeReader) -> usize {
    let mut b = [0u8; 1];
    r.read(&mut b).unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().unwrap_or(2));
    let lockers = args.next().unwrap_or(3);
    let readers = args.next().unwrap_or(2);
    let lock = Arc::new(Mutex::new(0u64));
    let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
    let mut handles = Vec::new();
    for _ in 0..lockers {
        let l = lock.clone();
        handles.push(
            std::thread::Builder::new()
                .name("locker".into())
                .spawn(move || {
                    take_big_lock(&l);
                    0
                })
                .expect("spawn"),
        );
    }
    let mut writers = Vec::new();
    for _ in 0..readers {
        let (r, w) = std::io::pipe().expect("pipe");
        writers.push(w);
        handles.push(
            std::thread::Builder::new()
                .name("reader".into())
                .spawn(move || wait_for_input(r))
                .expect("spawn"),
        );
    }
    println!("ready");
    std::io::stdout().flush().ok();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok();
    drop(guard);
    for w in &mut writers {
        w.write_all(b"x").ok();
    }
    let got: usize = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    println!("done {got}");
    std::process::exit(if got == readers { 0 } else { 5 });
}
