//! The disk's own latency: what one 4 KiB write and its `fdatasync` take,
//! back to back, in the folder the stores live in. No durable commit can
//! answer faster than its fsync, so this is the floor of a durable ingest's
//! tail, measured in the same run.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::histogram::Histogram;
use crate::report::ms;

/// Preallocated size of the probe's file: writes wrap within it, so they
/// overwrite blocks as a reused WAL does.
const FILE_SIZE: u64 = 64 << 20;
const BLOCK: usize = 4096;

/// The latencies of `fdatasync` after each 4 KiB write, for `duration`.
pub fn fdatasync_latency(dir: &Path, duration: Duration) -> std::io::Result<Histogram> {
    let path = dir.join("fsync-probe.bin");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)?;
    file.set_len(FILE_SIZE)?;
    file.sync_all()?;
    let block = [0x5au8; BLOCK];
    let mut latency = Histogram::default();
    let mut offset = 0;
    let end = Instant::now() + duration;
    while Instant::now() < end {
        file.write_all_at(&block, offset)?;
        offset = (offset + BLOCK as u64) % FILE_SIZE;
        let started = Instant::now();
        file.sync_data()?;
        latency.record(started.elapsed().as_nanos() as u64);
    }
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(latency)
}

/// The probe's figures as one sentence for the report.
pub fn note(latency: &Histogram, duration: Duration) -> String {
    let at = |q| ms(Duration::from_nanos(latency.quantile(q)));
    format!(
        "the disk itself, right before ingest-1: {} writes of 4 KiB each followed by `fdatasync` in \
         {} s, in the stores' folder: p50 {}, p99 {}, p99.9 {}, slowest {} (no durable commit can \
         answer before its fsync)",
        latency.count(),
        duration.as_secs(),
        at(0.5),
        at(0.99),
        at(0.999),
        ms(Duration::from_nanos(latency.max()))
    )
}
