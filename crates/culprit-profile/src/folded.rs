//! Folded stacks (`a;b;c 10` lines), read as a profile and written from one.
