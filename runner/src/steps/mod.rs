//! Step kinds, one module each: its input, checks, rendering, planning and applying.

pub mod ssh;
