//! What the commands tell people, on standard error, so that standard
//! output carries only what a script reads: event ids, tables, JSON.

use std::io::Write;

pub fn note(message: &str) {
    eprintln!("shiplog: {message}");
}

pub fn warn(message: &str) {
    eprintln!("shiplog: warning: {message}");
}

pub fn error(message: &str) {
    eprintln!("shiplog: error: {message}");
}

/// A line on standard output. A reader that went away (`| head`) is not an
/// error worth a panic: the process ends quietly, as `cat` would.
pub fn out(line: &str) {
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        std::process::exit(0);
    }
}

/// A new event's id, alone on its line of standard output, so that
/// `ID=$(shiplog build start)` works.
pub fn created(kind: &str, event_id: i64) {
    // Unlike a listing's, a reader gone away must not stop a wrapped
    // command from running or its event from being ended.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{event_id}").and_then(|()| stdout.flush());
    drop(stdout);
    note(&format!("recorded {kind} {event_id}"));
}
