//! The store conformance suite: every backend must pass the same cases.
//!
//! Each case is an async function over a `dyn Store`; `conformance!` runs
//! the whole list against one backend.

mod cases;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shiplog_store::Store;
use shiplog_store_postgres::PostgresStore;
use shiplog_store_postgres::testing::{POSTGRES_URL_VAR, TempDatabase, postgres_server_url};
use shiplog_store_sqlite::SqliteStore;
use tempfile::TempDir;

/// A store and whatever keeps its database alive.
pub struct Fixture {
    pub store: Arc<dyn Store>,
    /// Opens another store on the same database, as another process or
    /// instance would.
    reopen: Reopen,
    _dir: Option<TempDir>,
    _database: Option<TempDatabase>,
}

enum Reopen {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Fixture {
    /// A second store on the fixture's database, sharing nothing else with
    /// the first, and how long a change it commits may take to reach the
    /// first store's cache of authorisations: at once on SQLite, where the
    /// first reads the database's generation; on PostgreSQL the
    /// notification's delivery, milliseconds (allowed 2 s here).
    pub async fn another(&self) -> (Arc<dyn Store>, Duration) {
        match &self.reopen {
            Reopen::Sqlite(path) => (
                Arc::new(SqliteStore::open(path).await.expect("open SQLite again")),
                Duration::ZERO,
            ),
            Reopen::Postgres(url) => (
                Arc::new(
                    PostgresStore::open(url)
                        .await
                        .expect("open PostgreSQL again"),
                ),
                Duration::from_secs(2),
            ),
        }
    }
}

async fn sqlite() -> Option<Fixture> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("conformance.db");
    let store = Arc::new(SqliteStore::open(&path).await.expect("open SQLite"));
    Some(Fixture {
        store,
        reopen: Reopen::Sqlite(path),
        _dir: Some(dir),
        _database: None,
    })
}

/// A store on a fresh PostgreSQL database, when a server is configured,
/// once it hears the other instances (and so caches authorisations).
async fn postgres() -> Option<Fixture> {
    let server = postgres_server_url()?;
    let database = TempDatabase::create(&server)
        .await
        .expect("create a PostgreSQL test database");
    let store = PostgresStore::open(&database.url)
        .await
        .expect("open PostgreSQL");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !store.listening() {
        assert!(
            Instant::now() < deadline,
            "the store never started listening"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Some(Fixture {
        store: Arc::new(store),
        reopen: Reopen::Postgres(database.url.clone()),
        _dir: None,
        _database: Some(database),
    })
}

/// With a server configured, it must be one the suites can use: a wrong URL
/// fails here rather than in every case. Without one, says past the test
/// harness's capture that the PostgreSQL suites were skipped and how to run
/// them.
#[tokio::test]
async fn postgres_suite_runs_when_configured() {
    if let Some(server) = postgres_server_url() {
        let database = TempDatabase::create(&server)
            .await
            .unwrap_or_else(|err| panic!("{POSTGRES_URL_VAR}={server} is not usable: {err}"));
        let store = PostgresStore::open(&database.url)
            .await
            .expect("open PostgreSQL");
        store.ping().await.expect("PostgreSQL answers");
    } else {
        let note = format!(
            "\nNOTE: the PostgreSQL suites were SKIPPED (conformance, scale-out and crash tests \
             pass vacuously without a server).\n\
             Run them with {POSTGRES_URL_VAR}=postgres://postgres@127.0.0.1:5432 cargo test --workspace\n\
             and the HTTP suite on PostgreSQL with that and SHIPLOG_TEST_BACKEND=postgres \
             cargo test -p shiplog-server --test it\n\n"
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes());
    }
}

/// Both backends walk through the same schema versions, each from a folder
/// of its own holding the same file names.
#[test]
fn both_backends_have_the_same_migration_versions() {
    assert_eq!(
        shiplog_store_sqlite::MIGRATION_VERSIONS,
        shiplog_store_postgres::MIGRATION_VERSIONS
    );
    let files = |backend: &str| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(format!("shiplog-store-{backend}"))
            .join("migrations");
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    assert_eq!(files("sqlite"), files("postgres"));
    assert_eq!(
        files("sqlite").len(),
        shiplog_store_sqlite::MIGRATION_VERSIONS.len()
    );
}

macro_rules! conformance {
    (
        $backend:ident,
        $fixture:path,
        [$($case:ident),+ $(,)?],
        [$($shared:ident),+ $(,)?]
    ) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(fixture) = $fixture().await else { return };
                    crate::cases::$case(fixture.store.clone()).await;
                }
            )+
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $shared() {
                    let Some(fixture) = $fixture().await else { return };
                    let (other, delivery) = fixture.another().await;
                    crate::cases::$shared(fixture.store.clone(), other, delivery).await;
                }
            )+
        }
    };
}

/// Expands `$macro!($args, [every case], [every case of two stores on one
/// database])`, so that the list of cases is written once for all backends.
macro_rules! with_every_case {
    ($macro:ident!($($args:tt)*)) => {
        $macro!($($args)*, [
            events_get_increasing_ids_across_apps,
            listing_pages_by_key_in_both_orders_without_gaps,
            filters_select_by_branch_type_and_env,
            an_env_filter_of_another_app_is_not_found,
            a_terminal_build_is_immutable_but_accepts_repeats,
            racing_terminal_updates_let_exactly_one_win,
            a_build_release_version_creates_one_release,
            racing_release_updates_create_one_release,
            releases_get_versions_and_refuse_duplicates,
            deploys_create_envs_and_number_themselves,
            parents_must_be_of_the_right_type_and_app,
            deleting_an_app_takes_its_events_and_envs,
            names_are_unique_per_account,
            tokens_authorise_only_their_own_account,
            revoked_tokens_stop_working,
            sessions_read_their_users_accounts_until_they_end_or_expire,
            a_members_level_is_the_lower_of_its_role_and_its_tokens_scope,
            a_refused_write_changes_nothing,
            each_accepted_write_records_one_change_and_a_refused_one_none,
            a_deploy_lineage_reaches_the_push,
            changes_after_resume_exactly_while_writers_run,
            deleting_an_app_takes_its_changes_and_change_ids_are_never_reused,
            dora_facts_follow_the_write_path,
            dora_scope_is_the_production_envs_unless_one_is_named,
            a_webhook_owes_each_change_until_delivered_and_is_disabled_past_its_window,
            an_unchanged_authorisation_is_answered_alike,
            a_write_refused_among_others_undoes_only_itself,
            an_app_deleted_among_event_writes_takes_their_changes,
            events_written_together_keep_every_field,
        ], [
            a_token_revoked_through_another_store_stops_working_at_once,
            a_role_lowered_or_removed_through_another_store_takes_effect_at_once,
        ]);
    };
}

with_every_case!(conformance!(sqlite, crate::sqlite));
with_every_case!(conformance!(postgres, crate::postgres));
