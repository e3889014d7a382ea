//! Where an outbound webhook may be sent. A URL must be `http` or `https`,
//! and (unless the server allows private targets) its host must not be, or
//! resolve to, an address of the server's own networks: checked when the
//! webhook is configured, and again at every connection by the resolver
//! the delivery client uses, so a name that later resolves elsewhere is
//! caught too. Redirects are not followed.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use shiplog_domain::DomainError;
use shiplog_domain::outbound::is_forbidden_target;

/// The longest an attempt may take: no 2xx within it is a failure.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

/// The rule for targets, and the client that keeps to it.
#[derive(Clone)]
pub struct Targets {
    allow_private: bool,
    client: reqwest::Client,
}

impl Targets {
    pub fn new(allow_private: bool) -> Targets {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(ATTEMPT_TIMEOUT)
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            .user_agent(concat!("shiplog/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the delivery client's settings are valid");
        Targets {
            allow_private,
            client,
        }
    }

    /// The client deliveries are sent with.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Checks a webhook's URL: its form, then where its host resolves.
    pub async fn check(&self, url: &str) -> Result<Url, DomainError> {
        let parsed = self.check_form(url)?;
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let port = parsed.port_or_known_default().unwrap_or(80);
        let addrs = lookup(&host, port).await.map_err(|err| {
            DomainError::bad_param("url", format!("the host {host} cannot be resolved: {err}"))
        })?;
        if let Some(addr) = addrs.iter().find(|addr| self.forbidden(addr.ip())) {
            return Err(refused(&format!("{host} resolves to {}", addr.ip())));
        }
        Ok(parsed)
    }

    /// Checks a URL's form and, when its host is an address, the address;
    /// names are checked as they resolve.
    pub fn check_form(&self, url: &str) -> Result<Url, DomainError> {
        let parsed = Url::parse(url)
            .map_err(|err| DomainError::bad_param("url", format!("not a valid URL: {err}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(DomainError::bad_param(
                "url",
                "the scheme must be http or https",
            ));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(DomainError::bad_param(
                "url",
                "credentials in the URL are not accepted: the signature authenticates deliveries",
            ));
        }
        let literal = match parsed.host() {
            None => return Err(DomainError::bad_param("url", "the URL has no host")),
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            Some(url::Host::Domain(_)) => None,
        };
        if let Some(addr) = literal.filter(|addr| self.forbidden(*addr)) {
            return Err(refused(&addr.to_string()));
        }
        Ok(parsed)
    }

    fn forbidden(&self, addr: IpAddr) -> bool {
        !self.allow_private && is_forbidden_target(addr)
    }
}

fn refused(what: &str) -> DomainError {
    DomainError::bad_param(
        "url",
        format!(
            "{what}: loopback, private and link-local targets are refused \
             (start the server with --allow-private-webhook-targets to allow them)"
        ),
    )
}

async fn lookup(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    Ok(tokio::net::lookup_host((host, port)).await?.collect())
}

/// Resolves names for the delivery client, leaving out forbidden addresses
/// (and failing when none is left), so that the connection itself cannot
/// reach them.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found = lookup(&host, 0).await?;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| allow_private || !is_forbidden_target(addr.ip()))
                .collect();
            if allowed.is_empty() {
                let message = format!("{host} resolves only to refused addresses");
                return Err(Box::new(std::io::Error::other(message))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}
