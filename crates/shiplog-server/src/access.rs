//! Which level of access each call needs: one table, by method and route
//! template (axum's `MatchedPath`), read by the authorising extractor
//! ([`crate::extract::Authorized`]) and by the tests that try every call
//! at every level.
//!
//! A call missing from the table needs `admin`: a new route is closed until
//! it is given its level here.

use axum::http::Method;
use shiplog_domain::Level;

/// A call of the API and the level it needs.
#[derive(Debug)]
pub struct Call {
    pub method: Method,
    /// The route template, as registered (`/{username}/apps`).
    pub route: &'static str,
    pub level: Level,
}

const fn call(method: Method, route: &'static str, level: Level) -> Call {
    Call {
        method,
        route,
        level,
    }
}

use Level::{Admin, Read, Write};

/// Every call that takes a token. Reads need `read`; recording events and
/// creating or changing apps and envs need `write`; deleting an app (with
/// its whole record) and managing the account's hooks, webhooks and
/// members need `admin`.
pub static CALLS: &[Call] = &[
    // Events.
    call(Method::GET, "/{username}/apps/{app_name}/events", Read),
    call(
        Method::GET,
        "/{username}/apps/{app_name}/events/{event_id}",
        Read,
    ),
    call(
        Method::PUT,
        "/{username}/apps/{app_name}/events/pushEvent",
        Write,
    ),
    call(
        Method::PUT,
        "/{username}/apps/{app_name}/events/pullRequestEvent",
        Write,
    ),
    call(
        Method::PUT,
        "/{username}/apps/{app_name}/events/buildEvent",
        Write,
    ),
    call(
        Method::PUT,
        "/{username}/apps/{app_name}/events/releaseEvent",
        Write,
    ),
    call(
        Method::PUT,
        "/{username}/apps/{app_name}/events/deployEvent",
        Write,
    ),
    call(
        Method::PUT,
        "/{username}/apps/{app_name}/events/incidentEvent",
        Write,
    ),
    call(
        Method::POST,
        "/{username}/apps/{app_name}/events/{event_id}",
        Write,
    ),
    // History and metrics.
    call(
        Method::GET,
        "/{username}/apps/{app_name}/events/{event_id}/history",
        Read,
    ),
    call(
        Method::GET,
        "/{username}/apps/{app_name}/events/{event_id}/lineage",
        Read,
    ),
    call(
        Method::GET,
        "/{username}/apps/{app_name}/commits/{commit_id}",
        Read,
    ),
    call(Method::GET, "/{username}/changes", Read),
    call(Method::GET, "/{username}/dora", Read),
    // Apps and envs.
    call(Method::GET, "/{username}/apps", Read),
    call(Method::GET, "/{username}/apps/{app_name}", Read),
    call(Method::PUT, "/{username}/apps/{app_name}", Write),
    call(Method::DELETE, "/{username}/apps/{app_name}", Admin),
    call(Method::GET, "/{username}/envs", Read),
    call(Method::GET, "/{username}/apps/{app_name}/envs", Read),
    call(Method::GET, "/{username}/envs/{env_name}", Read),
    call(
        Method::PUT,
        "/{username}/apps/{app_name}/envs/{env_name}",
        Write,
    ),
    call(Method::DELETE, "/{username}/envs/{env_name}", Write),
    // The account's hooks (deliveries are signed, not authorised here).
    call(Method::GET, "/{username}/hooks", Admin),
    call(Method::PUT, "/{username}/hooks/{provider}", Admin),
    call(Method::DELETE, "/{username}/hooks/{provider}", Admin),
    // The live stream, which any reader may follow, and the outbound
    // webhooks, which only admins manage (or see: their URLs may carry the
    // receiver's secrets).
    call(Method::GET, "/{username}/stream", Read),
    call(Method::GET, "/{username}/webhooks", Admin),
    call(Method::PUT, "/{username}/webhooks/{name}", Admin),
    call(Method::GET, "/{username}/webhooks/{name}", Admin),
    call(Method::DELETE, "/{username}/webhooks/{name}", Admin),
    call(Method::GET, "/{username}/webhooks/{name}/deliveries", Admin),
    // The account's members.
    call(Method::GET, "/{username}/members", Admin),
    call(Method::PUT, "/{username}/members/{member}", Admin),
    call(Method::DELETE, "/{username}/members/{member}", Admin),
];

/// The level a call needs: its entry's, else `admin`.
pub fn needed(method: &Method, route: Option<&str>) -> Level {
    route
        .and_then(|route| {
            CALLS
                .iter()
                .find(|call| call.method == method && call.route == route)
        })
        .map_or(Admin, |call| call.level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_call_is_listed_once() {
        for (i, a) in CALLS.iter().enumerate() {
            for b in &CALLS[i + 1..] {
                assert!(
                    !(a.method == b.method && a.route == b.route),
                    "{} {} is listed twice",
                    a.method,
                    a.route
                );
            }
        }
    }

    #[test]
    fn an_unlisted_call_needs_admin() {
        assert_eq!(needed(&Method::GET, Some("/{username}/apps")), Read);
        assert_eq!(needed(&Method::GET, Some("/{username}/webhooks")), Admin);
        assert_eq!(needed(&Method::PATCH, Some("/{username}/apps")), Admin);
        assert_eq!(needed(&Method::GET, None), Admin);
    }
}
