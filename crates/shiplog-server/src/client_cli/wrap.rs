//! Running a command inside a recorded event: the event is recorded as
//! running, the command runs with the terminal and output untouched, and
//! the event ends by how the command ended. SIGINT and SIGTERM are passed
//! to the command, end the event as cancelled, and make the exit status
//! 128 + the signal's number.

use std::ffi::OsString;
use std::future::Future;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use shiplog_client::api::EventUpdateIn;
use shiplog_domain::Timestamp;
use tokio::signal::unix::{Signal, SignalKind, signal};

use super::say;
use super::session::{EXIT_FAILED, Failure, NewEvent, Session};

/// How a wrapped command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// With the exit status shiplog passes on.
    Failed(u8),
    /// shiplog received this signal (and passed it on).
    Cancelled(i32),
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Succeeded => 0,
            Outcome::Failed(code) => code,
            Outcome::Cancelled(signal) => signalled(signal),
        }
    }
}

/// The shell's convention for a process ended by a signal.
fn signalled(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(255)
}

/// SIGINT and SIGTERM, caught from the start so that neither ends shiplog
/// before the event is ended.
pub struct Signals {
    interrupt: Signal,
    terminate: Signal,
    /// The first signal received.
    pub received: Option<i32>,
}

impl Signals {
    pub fn catch() -> std::io::Result<Signals> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            received: None,
        })
    }

    async fn next(&mut self) -> i32 {
        let signal = tokio::select! {
            _ = self.interrupt.recv() => libc::SIGINT,
            _ = self.terminate.recv() => libc::SIGTERM,
        };
        self.received.get_or_insert(signal);
        signal
    }

    /// Awaits `work`, noting any signal that arrives meanwhile.
    pub async fn during<T>(&mut self, work: impl Future<Output = T>) -> T {
        tokio::pin!(work);
        loop {
            tokio::select! {
                value = &mut work => return value,
                _ = self.next() => {}
            }
        }
    }
}

/// Runs `command` with shiplog's standard input, output and error, passing
/// on the signals shiplog receives, until it exits.
pub async fn run_command(command: &[OsString], signals: &mut Signals) -> Outcome {
    let (program, args) = command.split_first().expect("clap requires a command");
    let child = match Command::new(program).args(args).spawn() {
        Ok(child) => child,
        Err(err) => {
            say::error(&format!("cannot run {}: {err}", program.to_string_lossy()));
            // The shell's statuses for a command not found, or not runnable.
            let code = if err.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            return Outcome::Failed(code);
        }
    };
    let pid = child.id() as libc::pid_t;
    let mut child = child;
    let waiter = tokio::task::spawn_blocking(move || child.wait());
    tokio::pin!(waiter);
    let status = loop {
        tokio::select! {
            status = &mut waiter => break status,
            signal = signals.next() => {
                // SAFETY: kill(2) has no memory effects. The child is not
                // reaped before `waiter` completes, so the pid is still its.
                unsafe { libc::kill(pid, signal) };
            }
        }
    };
    if let Some(signal) = signals.received {
        return Outcome::Cancelled(signal);
    }
    match status {
        Ok(Ok(status)) if status.success() => Outcome::Succeeded,
        Ok(Ok(status)) => match (status.code(), status.signal()) {
            (Some(code), _) => Outcome::Failed(u8::try_from(code).unwrap_or(1)),
            (None, Some(signal)) => Outcome::Failed(signalled(signal)),
            (None, None) => Outcome::Failed(1),
        },
        Ok(Err(err)) => {
            say::error(&format!("waiting for the command: {err}"));
            Outcome::Failed(1)
        }
        Err(err) => {
            say::error(&format!("waiting for the command: {err}"));
            Outcome::Failed(1)
        }
    }
}

/// What a kind of wrapped event records when the command ends.
pub trait Ending {
    /// The update that ends the event recorded as running.
    fn update(&self, outcome: Outcome, end: Timestamp) -> EventUpdateIn;
    /// The whole event, ended, for when the running one could not be
    /// recorded at the start.
    fn late(&self, running: &NewEvent, outcome: Outcome, end: Timestamp) -> NewEvent;
}

/// Records `running`, runs `command`, ends the event by `ending`; returns
/// shiplog's exit status.
pub async fn wrapped(
    session: &Session,
    running: NewEvent,
    ending: &dyn Ending,
    command: &[OsString],
) -> u8 {
    let kind = running.kind();
    let mut signals = match Signals::catch() {
        Ok(signals) => signals,
        Err(err) => {
            say::error(&format!("cannot catch signals: {err}"));
            return EXIT_FAILED;
        }
    };
    let started = signals.during(session.create(&running)).await;
    let recorded = match started {
        Ok(id) => {
            say::created(kind, id);
            Some(id)
        }
        Err(failure) if failure.tolerated(session.strict, true) => {
            say::warn(&format!("the {kind} was not recorded: {failure}"));
            // Only an outage may be over by the end; a refusal or a missing
            // configuration would be met again.
            if !matches!(failure, Failure::Unreachable(_)) {
                let outcome = run_or_skip(command, &mut signals).await;
                return outcome.exit_code();
            }
            None
        }
        Err(failure) => {
            say::error(&format!(
                "the {kind} was not recorded, so the command was not run: {failure}"
            ));
            return failure.exit_code();
        }
    };
    let outcome = run_or_skip(command, &mut signals).await;
    let end = Timestamp::now();
    let result = match recorded {
        Some(id) => signals
            .during(session.update(id, &ending.update(outcome, end)))
            .await
            .map(drop),
        None => {
            let late = ending.late(&running, outcome, end);
            signals
                .during(session.create(&late))
                .await
                .map(|id| say::created(kind, id))
        }
    };
    let what = match recorded {
        Some(_) => format!("the end of the {kind}"),
        None => format!("the {kind}"),
    };
    match result {
        Ok(()) => outcome.exit_code(),
        Err(failure) if failure.tolerated(session.strict, true) => {
            say::warn(&format!("{what} was not recorded: {failure}"));
            outcome.exit_code()
        }
        Err(failure) => {
            say::error(&format!("{what} was not recorded: {failure}"));
            match outcome {
                // A cancelled job says so, whatever else failed.
                Outcome::Cancelled(_) => outcome.exit_code(),
                _ => failure.exit_code(),
            }
        }
    }
}

/// Runs the command, unless a signal arrived before it could start.
async fn run_or_skip(command: &[OsString], signals: &mut Signals) -> Outcome {
    match signals.received {
        Some(signal) => Outcome::Cancelled(signal),
        None => run_command(command, signals).await,
    }
}
