//! CDEvents (specification v0.5), both ways, as pure functions: shiplog's
//! changes as CDEvents ([`out`]), with the CloudEvents HTTP binary-mode
//! headers that carry one ([`binding`]), and CDEvents received over HTTP
//! mapped to the same commands as a webhook delivery ([`incoming`]).
//!
//! The events are built and read as plain `serde_json` values rather than
//! with the `cdevents-sdk` and `cloudevents-sdk` crates. Both would build
//! here (`cdevents-sdk` asks for Rust 1.85), but shiplog emits a dozen
//! types and must read v0.4 and v0.5 spellings leniently, while those
//! crates bring generated types for every event of every version, their own
//! URI, time and error crates and, by default, the CloudEvents SDK with
//! chrono, url, uuid and snafu: a build cost on small machines that buys
//! nothing here. The official JSON schemas check what is emitted (see the
//! server's tests).

pub mod binding;
pub mod incoming;
pub mod out;

/// The `context.specversion` of every CDEvent shiplog emits: the release
/// whose schemas its events are checked against.
pub const SPEC_VERSION: &str = "0.5.1";

/// The prefix of every CDEvents `context.type`.
const TYPE_PREFIX: &str = "dev.cdevents.";

/// The `context.type` of a subject and predicate, with the version of that
/// event in specification v0.5.
fn event_type(subject: &str, predicate: &str) -> String {
    let version = match (subject, predicate) {
        ("change", "created") => "0.4.0",
        _ => "0.3.0",
    };
    format!("{TYPE_PREFIX}{subject}.{predicate}.{version}")
}

/// The subject and predicate of a `context.type` of any version
/// (`dev.cdevents.pipelinerun.finished.0.2.0`), in lower case.
fn subject_and_predicate(context_type: &str) -> Option<(String, String)> {
    let rest = context_type
        .get(..TYPE_PREFIX.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(TYPE_PREFIX))
        .map(|_| &context_type[TYPE_PREFIX.len()..])?;
    let mut parts = rest.split('.');
    let subject = parts.next().filter(|s| !s.is_empty())?;
    let predicate = parts.next().filter(|p| !p.is_empty())?;
    Some((subject.to_ascii_lowercase(), predicate.to_ascii_lowercase()))
}

/// `pkg:generic/<name>@<version>`: the package URL of an app's release,
/// the version percent-encoded as package URLs require.
pub fn package_url(app: &str, version: Option<&str>) -> String {
    match version {
        Some(version) => format!(
            "pkg:generic/{app}@{}",
            percent_encoding::utf8_percent_encode(version, PURL_VERSION)
        ),
        None => format!("pkg:generic/{app}"),
    }
}

/// Everything but the characters a package URL's version may hold as is.
const PURL_VERSION: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .remove(b'~')
    .remove(b'+');

/// The version of a package URL (`pkg:type/namespace/name@version?…#…`),
/// percent-decoded; none when it names no version or the version is not
/// UTF-8.
fn package_version(purl: &str) -> Option<String> {
    let end = purl.find(['?', '#']).unwrap_or(purl.len());
    let (_, version) = purl[..end].rsplit_once('@')?;
    let decoded = percent_encoding::percent_decode_str(version)
        .decode_utf8()
        .ok()?;
    Some(decoded.into_owned()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_carry_the_version_each_v0_5_schema_requires() {
        assert_eq!(
            event_type("change", "created"),
            "dev.cdevents.change.created.0.4.0"
        );
        assert_eq!(
            event_type("pipelinerun", "finished"),
            "dev.cdevents.pipelinerun.finished.0.3.0"
        );
    }

    #[test]
    fn types_of_any_version_and_case_name_their_subject_and_predicate() {
        let parsed = subject_and_predicate("dev.cdevents.pipelinerun.queued.0.1.0");
        assert_eq!(parsed, Some(("pipelinerun".into(), "queued".into())));
        let parsed = subject_and_predicate("Dev.CDEvents.Service.Deployed.0.3.0");
        assert_eq!(parsed, Some(("service".into(), "deployed".into())));
        assert_eq!(
            subject_and_predicate("dev.cdeventsx.tool.created.0.1.0"),
            None
        );
        assert_eq!(subject_and_predicate("dev.cdevents."), None);
        assert_eq!(subject_and_predicate("com.example"), None);
    }

    #[test]
    fn package_urls_encode_and_decode_their_version() {
        let purl = package_url("web", Some("1.2.3+build 7/x"));
        assert_eq!(purl, "pkg:generic/web@1.2.3+build%207%2Fx");
        assert_eq!(package_version(&purl).as_deref(), Some("1.2.3+build 7/x"));
        assert_eq!(package_url("web", None), "pkg:generic/web");
        assert_eq!(
            package_version("pkg:golang/mygit.com/myorg/myapp@234fd47e?arch=x#sub").as_deref(),
            Some("234fd47e")
        );
        assert_eq!(
            package_version("pkg:oci/myapp@sha256%3A0b31").as_deref(),
            Some("sha256:0b31")
        );
        assert_eq!(package_version("pkg:generic/web"), None);
        assert_eq!(package_version("pkg:generic/web@"), None);
        assert_eq!(package_version("pkg:generic/web@%C0%A0"), None);
    }
}
