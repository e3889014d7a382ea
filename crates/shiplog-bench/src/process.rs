//! The servers the runner starts: each lives in a guard that kills it when
//! dropped, so nothing outlives the run, even on an error. Also their peak
//! resident memory, read from `/proc`.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::loadgen;

/// A started server process, killed and reaped on drop.
pub struct Server {
    pub name: String,
    pub addr: SocketAddr,
    child: Child,
}

impl Server {
    /// Starts `command` (whose output goes to `log`) and waits until
    /// `GET /-/health` answers 200; returns the server and how long that took.
    pub async fn start(
        name: &str,
        mut command: Command,
        addr: SocketAddr,
        log: &Path,
    ) -> anyhow::Result<(Server, Duration)> {
        let log_file =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        command
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file);
        let started = Instant::now();
        let child = command
            .spawn()
            .with_context(|| format!("starting {name} ({command:?})"))?;
        let mut server = Server {
            name: name.to_owned(),
            addr,
            child,
        };
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "{name} exited with {status} before answering; its log: {}\n{}",
                    log.display(),
                    tail(log)
                );
            }
            if let Ok(200) = loadgen::get_status(addr, "/-/health").await {
                return Ok((server, started.elapsed()));
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!("{name} did not answer /-/health within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resets the peak resident memory that [`Server::peak_rss`] reports, so
    /// that each scenario gets its own (Linux 4.0 and later).
    pub fn reset_peak_rss(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").is_ok()
    }

    /// Peak resident memory in bytes (`VmHWM`).
    pub fn peak_rss(&self) -> Option<u64> {
        status_field(self.pid(), "VmHWM:")
    }

    /// Resident memory now, in bytes (`VmRSS`).
    pub fn rss(&self) -> Option<u64> {
        status_field(self.pid(), "VmRSS:")
    }

    /// Checks that the server is still running.
    pub fn ensure_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited with {status} during the run", self.name);
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn status_field(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// CPU time used so far, in clock ticks (`USER_HZ`, 100 per second on
/// Linux): by the whole machine, and by the processes `pids` (this one
/// with `std::process::id()`).
#[derive(Clone, Copy, Debug)]
pub struct CpuTicks {
    machine: u64,
    processes: u64,
}

impl CpuTicks {
    pub fn now(pids: &[u32]) -> Option<CpuTicks> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let line = stat.lines().next()?.strip_prefix("cpu ")?;
        let fields: Vec<u64> = line
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        // user, nice, system, (idle, iowait), irq, softirq, steal; guest
        // time is already counted in user.
        let machine = [0, 1, 2, 5, 6, 7]
            .iter()
            .map(|&i| fields.get(i).copied().unwrap_or(0))
            .sum();
        let mut processes = 0;
        for pid in pids {
            processes += process_ticks(*pid)?;
        }
        Some(CpuTicks { machine, processes })
    }

    /// Cores that processes other than the ones sampled kept busy on
    /// average since `earlier`, over `elapsed`.
    pub fn others_since(&self, earlier: &CpuTicks, elapsed: Duration) -> f64 {
        let machine = self.machine.saturating_sub(earlier.machine);
        let ours = self.processes.saturating_sub(earlier.processes);
        machine.saturating_sub(ours) as f64 / 100.0 / elapsed.as_secs_f64().max(1e-3)
    }
}

/// utime + stime of a process (every thread), in clock ticks.
fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A loopback address with a port that was free a moment ago.
pub fn free_loopback_addr() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_from_proc() {
        let pids = [std::process::id()];
        let before = CpuTicks::now(&pids).expect("/proc/stat and /proc/self/stat");
        let spin = Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(50) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        let after = CpuTicks::now(&pids).expect("readable again");
        assert!(after.processes >= before.processes && after.machine >= before.machine);
        assert!(after.others_since(&before, spin.elapsed()) >= 0.0, "{x}");
    }
}
