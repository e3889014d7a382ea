//! What can go wrong with a call: the server refused it, the server could
//! not be reached for as long as the client was allowed to try, or the
//! answer was not what the API promises.

use std::time::Duration;

/// The failure of one call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error (`{"error":{"code","message"}}`).
    #[error("{status} {code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// Every attempt failed to connect, timed out or was answered 503 (or
    /// 502/504 by a proxy), until the retry budget ran out.
    #[error("shiplog could not be reached ({attempts} attempts in {:.1} s): {last}", .waited.as_secs_f64())]
    Unavailable {
        attempts: u32,
        waited: Duration,
        last: String,
    },
    /// The answer was not the JSON the API describes.
    #[error("unexpected answer from shiplog: {0}")]
    Protocol(String),
    /// The client was set up with something unusable, such as a base URL
    /// that is not one.
    #[error("{0}")]
    Config(String),
}

impl Error {
    /// True when the server could not be reached: nothing is known to be
    /// recorded, and trying again later may work.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Unavailable { .. })
    }

    /// The error code of a refused call (`NotFound`, `BadParam`, …).
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The message of a refused call.
    pub fn message(&self) -> Option<&str> {
        match self {
            Error::Api { message, .. } => Some(message),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
