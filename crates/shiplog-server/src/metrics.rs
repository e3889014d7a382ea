//! Prometheus metrics: requests by route template and status, latencies,
//! events written, the writer's batch sizes and database pool use.

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::SharedState;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// How often the recorded latencies are folded into their histograms.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Installs the process-wide recorder once, with the thread that keeps it,
/// and returns its handle.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("shiplog_http_request_duration_seconds".into()),
                LATENCY_BUCKETS,
            )
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("shiplog_writer_batch_size".into()),
                    BATCH_BUCKETS,
                )
            })
            .expect("bucket lists are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed");
        }
        // The recorder keeps every latency sample until an upkeep folds it
        // into its histogram: without one, a server nobody scrapes would
        // grow by 24 bytes a request for as long as it runs.
        let kept = handle.clone();
        let upkeep = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    kept.run_upkeep();
                }
            });
        if let Err(error) = upkeep {
            tracing::warn!(%error, "the metrics upkeep thread did not start");
        }
        handle
    })
}

/// Counts one answered request.
pub fn record_request(route: &str, method: &str, status: u16, seconds: f64) {
    let (route, method) = (route.to_owned(), method.to_owned());
    metrics::counter!(
        "shiplog_http_requests_total",
        "route" => route.clone(),
        "method" => method.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(
        "shiplog_http_request_duration_seconds",
        "route" => route,
        "method" => method
    )
    .record(seconds);
}

/// Counts one acknowledged event.
pub fn record_event_written(event_type: &'static str) {
    metrics::counter!("shiplog_events_written_total", "type" => event_type).increment(1);
}

/// `GET /-/metrics`, in the Prometheus text format.
pub async fn render(State(state): State<SharedState>) -> Response {
    let pool = state.store.pool_status();
    metrics::gauge!("shiplog_db_pool_connections", "state" => "idle").set(pool.idle);
    metrics::gauge!("shiplog_db_pool_connections", "state" => "in_use")
        .set(pool.size.saturating_sub(pool.idle));
    let handle = handle();
    handle.run_upkeep();
    let mut response = handle.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}
