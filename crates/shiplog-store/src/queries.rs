//! SQL that both backends run as written: `$N` placeholders numbered in
//! the order they first appear, which PostgreSQL and SQLite bind alike.

use std::sync::LazyLock;

use shiplog_domain::event::IncidentStatus;
use shiplog_domain::{BuildStatus, DeploymentStatus};

use crate::columns::{CHANGE_COLUMNS, EVENT_COLUMNS};
use crate::write::Counter;

/// The role of the user whose id is the column `$user` on the account `a`:
/// `admin` for its owner, else its membership's, else NULL. The one rule
/// both tokens ([`AUTHORIZE`]) and the web UI's sessions are authorised by.
macro_rules! role_on_account {
    ($user:literal) => {
        concat!(
            "CASE WHEN a.id = ",
            $user,
            " THEN 'admin' ELSE (SELECT m.role FROM memberships m \
             WHERE m.account_id = a.id AND m.user_id = ",
            $user,
            ") END"
        )
    };
}
pub(crate) use role_on_account;

/// The updates of some events after a change id, oldest first: (`apps`
/// app ids, `events` event ids, after). Served by the index on (app id,
/// event id, id).
pub fn updates_of_events_sql(apps: usize, events: usize) -> String {
    let list = |from: usize, count: usize| {
        (from..from + count)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "SELECT {CHANGE_COLUMNS} FROM changes c JOIN apps a ON a.id = c.app_id \
         WHERE c.app_id IN ({}) AND c.event_id IN ({}) AND c.kind = 'updated' AND c.id > ${} \
         ORDER BY c.id",
        list(1, apps),
        list(1 + apps, events),
        1 + apps + events
    )
}

/// An event's changes after a change id: (app id, event id, after, limit).
pub static EVENT_HISTORY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {CHANGE_COLUMNS} FROM changes c JOIN apps a ON a.id = c.app_id \
         WHERE c.app_id = $1 AND c.event_id = $2 AND c.id > $3 ORDER BY c.id LIMIT $4"
    )
});

/// An account's changes after a change id: (account id, after, limit).
pub static ACCOUNT_CHANGES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {CHANGE_COLUMNS} FROM changes c JOIN apps a ON a.id = c.app_id \
         WHERE c.account_id = $1 AND c.id > $2 ORDER BY c.id LIMIT $3"
    )
});

/// The ancestors of an event, nearest first: (event id, app id).
pub static ANCESTORS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH RECURSIVE chain (ancestor_id, depth) AS ( \
             SELECT parent_event_id, 1 FROM events \
             WHERE id = $1 AND app_id = $2 AND parent_event_id IS NOT NULL \
             UNION ALL \
             SELECT e.parent_event_id, chain.depth + 1 FROM events e \
             JOIN chain ON e.id = chain.ancestor_id \
             WHERE e.parent_event_id IS NOT NULL AND chain.depth < {MAX_DEPTH}) \
         SELECT {EVENT_COLUMNS} FROM events JOIN chain ON id = chain.ancestor_id \
         WHERE app_id = $2 ORDER BY chain.depth"
    )
});

/// Every event whose chain of parents leads to an event, in id order:
/// (event id, app id).
pub static DESCENDANTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH RECURSIVE tree (descendant_id) AS ( \
             SELECT id FROM events WHERE parent_event_id = $1 AND app_id = $2 \
             UNION \
             SELECT e.id FROM events e JOIN tree ON e.parent_event_id = tree.descendant_id \
             WHERE e.app_id = $2) \
         SELECT {EVENT_COLUMNS} FROM events \
         WHERE id IN (SELECT descendant_id FROM tree) AND app_id = $2 ORDER BY id"
    )
});

/// A chain of parents is at most PUSH ← BUILD ← RELEASE ← DEPLOY; the
/// bound only guards against data no write path makes.
const MAX_DEPTH: u32 = 16;

/// Every event of an app with a commit id: (app id, commit id).
pub static COMMIT_EVENTS: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {EVENT_COLUMNS} FROM events WHERE app_id = $1 AND commit_id = $2 ORDER BY id")
});

/// The newest deploy that ended `Ok` of each env of an app, where it
/// carried a commit: (app id, commit id).
pub static ACTIVE_DEPLOYS_OF_COMMIT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE id IN ( \
             SELECT (SELECT d.id FROM events d \
                     WHERE d.app_id = $1 AND d.env_name = v.name AND d.event_type = 'DEPLOY' \
                       AND d.deployment_status = 'Ok' \
                     ORDER BY d.id DESC LIMIT 1) \
             FROM envs v WHERE v.app_id = $1) \
         AND commit_id = $2 ORDER BY env_name"
    )
});

/// A token by its hash, with the account a request names and the role of
/// the token's user there (`admin` on its own account, its membership's
/// role on another, none otherwise): (account name, token hash). Columns:
/// stored hash, account id, account name, role, token scope, token id,
/// token label, user. One row from the token's unique index, the account's
/// and the membership's primary keys.
pub const AUTHORIZE: &str = concat!(
    "SELECT t.hash, a.id, a.name, ",
    role_on_account!("t.user_id"),
    ", t.scope, t.id, t.label, u.name \
     FROM tokens t JOIN users u ON u.id = t.user_id LEFT JOIN users a ON a.name = $1 \
     WHERE t.hash = $2 AND t.revoked_ms IS NULL"
);

/// The columns an event is inserted with: (app id, type, time, then every
/// column of [`EVENT_COLUMNS`] after the first four, in its order), as
/// [`crate::columns::event_values`] gives them.
pub const EVENT_INSERT_COLUMNS: &str = "app_id, event_type, event_time_ms, \
     author_name, author_username, branch, commit_id, commit_msg, commit_url, repo_name, \
     repo_owner, repo_provider, repo_url, auto_build, build_end_ms, build_id, build_provider, \
     build_start_ms, build_status, build_url, parent_event_id, release_version, auto_deploy, \
     deployment_id, deployment_number, deployment_status, deployment_type, env_name, \
     commit_time_ms, deployment_start_ms, deployment_end_ms, hotfix, incident_status, \
     incident_start_ms, incident_end_ms, caused_by_event_id, severity, title, url";

/// Inserts an event: the values of [`EVENT_INSERT_COLUMNS`].
pub static INSERT_EVENT: LazyLock<String> = LazyLock::new(|| {
    let count = EVENT_INSERT_COLUMNS.split(',').count();
    let placeholders: Vec<_> = (1..=count).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO events ({EVENT_INSERT_COLUMNS}) VALUES ({})",
        placeholders.join(", ")
    )
});

/// One event of an app: (event id, app id).
pub static LOAD_EVENT: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1 AND app_id = $2"));

/// The RELEASE of an app with a version: (app id, version).
pub static FIND_RELEASE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {EVENT_COLUMNS} FROM events \
         WHERE app_id = $1 AND event_type = 'RELEASE' AND release_version = $2"
    )
});

/// Creates an app: (account id, name, description, created).
pub const INSERT_APP: &str =
    "INSERT INTO apps (account_id, name, description, created_ms) VALUES ($1, $2, $3, $4)";

/// The columns an app is looked up with, in the order the backends read
/// them: id, name, description, created, retention days.
macro_rules! app_lookup_columns {
    () => {
        "id, name, description, created_ms, retention_days"
    };
}

/// [`app_lookup_columns`] as a constant, for SQL built at run time.
pub const APP_LOOKUP_COLUMNS: &str = app_lookup_columns!();

/// An app of an account by name: (account id, name).
pub const FIND_APP: &str = concat!(
    "SELECT ",
    app_lookup_columns!(),
    " FROM apps WHERE account_id = $1 AND name = $2"
);

/// Creates an app with its own retention: (account id, name, description,
/// created, retention days).
pub const INSERT_APP_WITH_RETENTION: &str = "INSERT INTO apps \
     (account_id, name, description, created_ms, retention_days) VALUES ($1, $2, $3, $4, $5)";

/// Sets the fields an UpdateApp names: (each value set, in the order
/// given, then account id, name). None set: a statement that changes
/// nothing but still finds the app.
pub fn update_app_sql(description: bool, retention_days: bool) -> String {
    let mut set = Vec::new();
    for (column, present) in [
        ("description", description),
        ("retention_days", retention_days),
    ] {
        if present {
            set.push(format!("{column} = ${}", set.len() + 1));
        }
    }
    let bound = set.len();
    if set.is_empty() {
        set.push("name = name".to_owned());
    }
    format!(
        "UPDATE apps SET {} WHERE account_id = ${} AND name = ${}",
        set.join(", "),
        bound + 1,
        bound + 2
    )
}

/// The release of an env's newest deploy that ended `Ok`: (app id, env).
pub const ACTIVE_RELEASE: &str = "SELECT release_version FROM events \
     WHERE app_id = $1 AND env_name = $2 AND event_type = 'DEPLOY' AND deployment_status = 'Ok' \
     ORDER BY id DESC LIMIT 1";

/// Creates an env: (account id, app id, name, description, tags, vars,
/// created).
pub const INSERT_ENV: &str = "INSERT INTO envs \
     (account_id, app_id, name, description, tags, vars, created_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// The app an env belongs to: (account id, env name).
pub const ENV_APP_ID: &str = "SELECT app_id FROM envs WHERE account_id = $1 AND name = $2";

/// Increments an app's counter and returns it: (app id).
pub fn bump_counter(counter: Counter) -> &'static str {
    match counter {
        Counter::Release => {
            "UPDATE apps SET release_seq = release_seq + 1 WHERE id = $1 RETURNING release_seq"
        }
        Counter::Deploy => {
            "UPDATE apps SET deploy_seq = deploy_seq + 1 WHERE id = $1 RETURNING deploy_seq"
        }
    }
}

/// The conditional update of a BUILD: (build_end, build_status,
/// release_version, event id). It matches only a non-terminal row, so of
/// racing writers exactly one changes a terminal state.
pub static UPDATE_BUILD_UNLESS_TERMINAL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE events SET build_end_ms = $1, build_status = $2, release_version = $3 \
         WHERE id = $4 AND {}",
        not_terminal(
            "build_status",
            BuildStatus::TERMINAL.iter().map(|s| s.as_str())
        )
    )
});

/// The conditional update of a DEPLOY: (deployment_status, deployment_end,
/// event id).
pub static UPDATE_DEPLOY_UNLESS_TERMINAL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE events SET deployment_status = $1, deployment_end_ms = $2 \
         WHERE id = $3 AND {}",
        not_terminal(
            "deployment_status",
            DeploymentStatus::TERMINAL.iter().map(|s| s.as_str())
        )
    )
});

/// The conditional update of an INCIDENT: (incident_status, incident_end,
/// event id).
pub static UPDATE_INCIDENT_UNLESS_TERMINAL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE events SET incident_status = $1, incident_end_ms = $2 WHERE id = $3 AND {}",
        not_terminal(
            "incident_status",
            [IncidentStatus::Resolved.as_str()].into_iter()
        )
    )
});

/// The terminal statuses are constants of the domain, written as literals.
fn not_terminal<'a>(column: &str, terminal: impl Iterator<Item = &'a str>) -> String {
    let quoted: Vec<_> = terminal.map(|s| format!("'{s}'")).collect();
    format!(
        "({column} IS NULL OR {column} NOT IN ({}))",
        quoted.join(", ")
    )
}
