//! Repository addresses: the web address of a clone URL (never with its
//! credentials), and what follows from it: the provider, owner and name,
//! and a commit's page.

/// The address people open for a repository cloned from `url`: any
/// credentials removed (CI systems put tokens in clone URLs), `git@host:path`
/// and `ssh://` forms as https on the same host, no trailing `.git`. `None`
/// for a local path.
pub fn web_url(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest.to_owned()),
        None => {
            // scp-like: [user@]host:path
            let (host, path) = url.split_once(':')?;
            if host.contains('/') || host.is_empty() {
                return None;
            }
            ("ssh".to_owned(), format!("{host}/{path}"))
        }
    };
    let (authority, path) = rest.split_once('/').unwrap_or((&rest, ""));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let (scheme, host) = match scheme.as_str() {
        "http" | "https" => (scheme.as_str(), host),
        // The web address of an ssh remote is https, without the ssh port.
        "ssh" | "git" | "git+ssh" => ("https", host.split(':').next().unwrap_or(host)),
        _ => return None,
    };
    if host.is_empty() {
        return None;
    }
    let path = path.trim_matches('/').trim_end_matches(".git");
    Some(if path.is_empty() {
        format!("{scheme}://{host}")
    } else {
        format!("{scheme}://{host}/{path}")
    })
}

fn host_and_path(web_url: &str) -> Option<(&str, &str)> {
    let rest = web_url.split_once("://")?.1;
    Some(rest.split_once('/').unwrap_or((rest, "")))
}

/// The `repo_provider` of the public hosts, by their address.
pub fn provider(web_url: &str) -> Option<&'static str> {
    let (host, _) = host_and_path(web_url)?;
    let host = host.to_ascii_lowercase();
    match host.as_str() {
        "github.com" => Some("github"),
        "gitlab.com" => Some("gitlab"),
        "bitbucket.org" => Some("bitbucket"),
        "dev.azure.com" => Some("azuredevops"),
        _ if host.ends_with(".visualstudio.com") => Some("azuredevops"),
        _ => None,
    }
}

/// The owner (a user, an organisation, a group path, an Azure DevOps
/// project) and the name of a repository, by its address.
pub fn owner_and_name(web_url: &str) -> Option<(String, String)> {
    let (_, path) = host_and_path(web_url)?;
    if let Some((before, name)) = path.split_once("/_git/") {
        // Azure DevOps: ORGANISATION/PROJECT/_git/NAME
        let project = before.rsplit('/').next()?;
        return Some((project.to_owned(), name.to_owned()));
    }
    let (owner, name) = path.rsplit_once('/')?;
    (!owner.is_empty() && !name.is_empty()).then(|| (owner.to_owned(), name.to_owned()))
}

/// The page of a commit on the known providers.
pub fn commit_url(provider: &str, web_url: &str, commit: &str) -> Option<String> {
    let path = match provider {
        "github" | "githubenterprise" | "azuredevops" => "commit",
        "gitlab" => "-/commit",
        "bitbucket" => "commits",
        _ => return None,
    };
    Some(format!("{}/{path}/{commit}", web_url.trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_urls_become_web_addresses_without_credentials() {
        let cases = [
            (
                "https://gitlab-ci-token:secret@gitlab.com/group/sub/web.git",
                "https://gitlab.com/group/sub/web",
            ),
            (
                "https://x-access-token:ghs_abc@github.com/jdoe/web",
                "https://github.com/jdoe/web",
            ),
            ("git@github.com:jdoe/web.git", "https://github.com/jdoe/web"),
            (
                "ssh://git@gitlab.example.com:2222/team/web.git",
                "https://gitlab.example.com/team/web",
            ),
            (
                "https://acme@dev.azure.com/acme/Shop/_git/web",
                "https://dev.azure.com/acme/Shop/_git/web",
            ),
            (
                "http://git.local:3000/jdoe/web/",
                "http://git.local:3000/jdoe/web",
            ),
        ];
        for (clone, web) in cases {
            assert_eq!(web_url(clone).as_deref(), Some(web), "{clone}");
        }
        for local in ["/srv/git/web.git", "file:///srv/git/web.git", "../web"] {
            assert_eq!(web_url(local), None, "{local}");
        }
    }

    #[test]
    fn the_public_hosts_name_their_provider_owner_and_name() {
        let url = "https://gitlab.com/group/sub/web";
        assert_eq!(provider(url), Some("gitlab"));
        assert_eq!(
            owner_and_name(url),
            Some(("group/sub".to_owned(), "web".to_owned()))
        );
        let azure = "https://dev.azure.com/acme/Shop/_git/web";
        assert_eq!(provider(azure), Some("azuredevops"));
        assert_eq!(
            owner_and_name(azure),
            Some(("Shop".to_owned(), "web".to_owned()))
        );
        assert_eq!(provider("https://git.example.com/a/b"), None);
        assert_eq!(owner_and_name("https://github.com/jdoe"), None);
    }

    #[test]
    fn commit_pages_follow_each_providers_layout() {
        let sha = "abc123";
        assert_eq!(
            commit_url("gitlab", "https://gitlab.com/g/web", sha).as_deref(),
            Some("https://gitlab.com/g/web/-/commit/abc123")
        );
        assert_eq!(
            commit_url("bitbucket", "https://bitbucket.org/w/web", sha).as_deref(),
            Some("https://bitbucket.org/w/web/commits/abc123")
        );
        assert_eq!(
            commit_url("github", "https://github.com/o/web", sha).as_deref(),
            Some("https://github.com/o/web/commit/abc123")
        );
        assert_eq!(commit_url("other", "https://x/y", sha), None);
    }
}
