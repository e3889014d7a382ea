//! Bar charts of DORA's metrics over the buckets, drawn as inline SVG from
//! numbers alone: the template places the shapes computed here.

use shiplog_api::DoraOut;
use shiplog_domain::Timestamp;

/// The drawing's coordinate system (it scales to the page's width).
pub const WIDTH: f64 = 640.0;
pub const HEIGHT: f64 = 200.0;
const LEFT: f64 = 8.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 24.0;

/// One metric: its chart, and the same numbers as a table.
pub struct Chart {
    /// Used for element ids.
    pub id: &'static str,
    pub title: &'static str,
    /// The whole window's value, as text.
    pub summary: String,
    /// DORA's level, or empty without data or benchmark.
    pub level: String,
    pub bars: Vec<Bar>,
    /// The value at the top of the scale, as text.
    pub max_label: String,
    pub first_label: String,
    pub last_label: String,
    /// What a row of the table says: the bucket, its value, its detail.
    pub value_heading: &'static str,
    pub detail_heading: &'static str,
    pub rows: Vec<(String, String, String)>,
}

/// A bar's place, in drawing units.
pub struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    /// What it shows, for a tooltip.
    pub label: String,
}

/// A point of a chart: its bucket, its value (none: no data), the value
/// as text and what it was computed from.
struct Point {
    start: Timestamp,
    value: Option<f64>,
    text: String,
    detail: String,
}

/// The five charts of an answer of GetDora.
pub fn charts(dora: &DoraOut) -> Vec<Chart> {
    let level = |level: Option<shiplog_domain::dora::benchmark::Level>| {
        level
            .and_then(|l| serde_json::to_value(l).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let df = &dora.deployment_frequency;
    let lt = &dora.change_lead_time;
    let cfr = &dora.change_fail_rate;
    let rt = &dora.recovery_time;
    let rw = &dora.rework_rate;
    vec![
        chart(
            ("deployment-frequency", "Deployment frequency"),
            format!(
                "{} deployments, {:.2} a day, on {} days",
                df.count, df.per_day, df.days_with_deployment
            ),
            level(df.level),
            ("Deployments", ""),
            df.buckets
                .iter()
                .map(|b| Point {
                    start: b.start,
                    value: Some(b.count as f64),
                    text: b.count.to_string(),
                    detail: String::new(),
                })
                .collect(),
            |max| format!("{max:.0}"),
        ),
        chart(
            ("lead-time", "Change lead time (median)"),
            format!(
                "median {}, 90th percentile {}, {} changes",
                duration(lt.median_seconds),
                duration(lt.p90_seconds),
                lt.count
            ),
            level(lt.level),
            ("Median", "Changes"),
            lt.buckets
                .iter()
                .map(|b| Point {
                    start: b.start,
                    value: b.median_seconds,
                    text: duration(b.median_seconds),
                    detail: b.count.to_string(),
                })
                .collect(),
            |max| duration(Some(max)),
        ),
        chart(
            ("change-fail-rate", "Change fail rate"),
            format!(
                "{} of {} deployments failed ({})",
                cfr.failed,
                cfr.total,
                percent(cfr.rate)
            ),
            level(cfr.level),
            ("Rate", "Failed of deployments"),
            cfr.buckets
                .iter()
                .map(|b| Point {
                    start: b.start,
                    value: b.rate,
                    text: percent(b.rate),
                    detail: format!("{} of {}", b.failed, b.total),
                })
                .collect(),
            |max| percent(Some(max)),
        ),
        chart(
            ("recovery-time", "Failed deployment recovery time (median)"),
            format!(
                "median {}, {} recoveries",
                duration(rt.median_seconds),
                rt.count
            ),
            level(rt.level),
            ("Median", "Recoveries"),
            rt.buckets
                .iter()
                .map(|b| Point {
                    start: b.start,
                    value: b.median_seconds,
                    text: duration(b.median_seconds),
                    detail: b.count.to_string(),
                })
                .collect(),
            |max| duration(Some(max)),
        ),
        chart(
            ("rework-rate", "Deployment rework rate"),
            format!(
                "{} of {} deployments were rework ({})",
                rw.rework,
                rw.total,
                percent(rw.rate)
            ),
            String::new(),
            ("Rate", "Rework of deployments"),
            rw.buckets
                .iter()
                .map(|b| Point {
                    start: b.start,
                    value: b.rate,
                    text: percent(b.rate),
                    detail: format!("{} of {}", b.rework, b.total),
                })
                .collect(),
            |max| percent(Some(max)),
        ),
    ]
}

fn chart(
    (id, title): (&'static str, &'static str),
    summary: String,
    level: String,
    (value_heading, detail_heading): (&'static str, &'static str),
    points: Vec<Point>,
    scale_label: impl Fn(f64) -> String,
) -> Chart {
    let max = points
        .iter()
        .filter_map(|p| p.value)
        .fold(0.0_f64, f64::max);
    // An empty chart still has a scale, so that no bar divides by zero.
    let top = if max > 0.0 { max } else { 1.0 };
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let slot = plot_width / points.len().max(1) as f64;
    let bars = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let value = p.value?;
            let height = (value / top * plot_height).max(if value > 0.0 { 1.0 } else { 0.0 });
            Some(Bar {
                x: coord(LEFT + slot * i as f64 + slot * 0.15),
                y: coord(TOP + plot_height - height),
                width: coord(slot * 0.7),
                height: coord(height),
                label: format!("{}: {}", day(p.start), p.text),
            })
        })
        .collect();
    let label_of = |point: Option<&Point>| point.map(|p| day(p.start)).unwrap_or_default();
    let rows = points
        .iter()
        .map(|p| {
            let text = if p.value.is_some() {
                p.text.clone()
            } else {
                "no data".to_owned()
            };
            (day(p.start), text, p.detail.clone())
        })
        .collect();
    Chart {
        id,
        title,
        summary,
        level,
        bars,
        max_label: scale_label(top),
        first_label: label_of(points.first()),
        last_label: label_of(points.last()),
        value_heading,
        detail_heading,
        rows,
    }
}

/// The y of the baseline, for the template's axis.
pub fn baseline() -> String {
    coord(HEIGHT - BOTTOM)
}

fn coord(value: f64) -> String {
    format!("{value:.1}")
}

/// The calendar date a bucket starts on (UTC).
fn day(start: Timestamp) -> String {
    start.to_string().chars().take(10).collect()
}

/// A fraction as a percentage; none is a dash.
pub fn percent(rate: Option<f64>) -> String {
    match rate {
        Some(rate) => format!("{:.1} %", rate * 100.0),
        None => "–".to_owned(),
    }
}

/// Seconds in the unit that reads best; none is a dash.
pub fn duration(seconds: Option<f64>) -> String {
    match seconds {
        None => "–".to_owned(),
        Some(s) if s < 60.0 => format!("{s:.0} s"),
        Some(s) if s < 3600.0 => format!("{:.1} min", s / 60.0),
        Some(s) if s < 86_400.0 => format!("{:.1} h", s / 3600.0),
        Some(s) => format!("{:.1} days", s / 86_400.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_rates_read_in_their_unit() {
        assert_eq!(duration(Some(42.0)), "42 s");
        assert_eq!(duration(Some(90.0)), "1.5 min");
        assert_eq!(duration(Some(5400.0)), "1.5 h");
        assert_eq!(duration(Some(172_800.0)), "2.0 days");
        assert_eq!(duration(None), "–");
        assert_eq!(percent(Some(0.25)), "25.0 %");
    }

    #[test]
    fn the_tallest_bar_fills_the_plot_and_empty_buckets_have_none() {
        let at = Timestamp::from_millis(0);
        let points = vec![
            Point {
                start: at,
                value: Some(4.0),
                text: "4".into(),
                detail: String::new(),
            },
            Point {
                start: at,
                value: Some(2.0),
                text: "2".into(),
                detail: String::new(),
            },
            Point {
                start: at,
                value: None,
                text: String::new(),
                detail: String::new(),
            },
        ];
        let chart = chart(
            ("c", "C"),
            String::new(),
            String::new(),
            ("v", "d"),
            points,
            |m| format!("{m}"),
        );
        assert_eq!(chart.bars.len(), 2);
        let plot = HEIGHT - TOP - BOTTOM;
        assert_eq!(chart.bars[0].height, coord(plot));
        assert_eq!(chart.bars[1].height, coord(plot / 2.0));
        assert_eq!(chart.max_label, "4");
        assert_eq!(chart.rows[2].1, "no data");
    }
}
