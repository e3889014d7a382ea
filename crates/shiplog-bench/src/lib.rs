//! shiplog's benchmark: a raw HTTP/1.1 load generator, a floor server that
//! answers like shiplog but stores nothing, and the runner that drives both
//! side by side and writes the report.

pub mod disk;
pub mod dora;
pub mod floor;
pub mod histogram;
pub mod hooks;
pub mod live;
pub mod loadgen;
pub mod moving;
pub mod postgres;
pub mod process;
pub mod report;
pub mod runner;
pub mod ui;
pub mod workload;
