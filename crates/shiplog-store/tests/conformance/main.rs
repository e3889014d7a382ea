//! The store conformance suite: every backend must pass the same cases.
//!
//! Each case is an async function over a `dyn Store`; `conformance!` runs
//! the whole list against one backend.

mod cases;

use std::sync::Arc;

use shiplog_store::Store;
use tempfile::TempDir;

/// A store and whatever keeps its database alive.
pub struct Fixture {
    pub store: Arc<dyn Store>,
    _dir: TempDir,
}

async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("conformance.db").display());
    let store = shiplog_store::open(&url).await.expect("open SQLite");
    Fixture { store, _dir: dir }
}

macro_rules! conformance {
    ($backend:ident, $fixture:path, [$($case:ident),+ $(,)?]) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let fixture = $fixture().await;
                    crate::cases::$case(fixture.store.clone()).await;
                }
            )+
        }
    };
}

conformance!(
    sqlite,
    crate::sqlite,
    [
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
        a_refused_write_changes_nothing,
    ]
);
