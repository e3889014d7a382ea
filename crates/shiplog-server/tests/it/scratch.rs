use crate::helpers::TestApp;
use reqwest::Method;
use serde_json::json;

async fn try_send(
    app: &TestApp,
    m: Method,
    url: &str,
    body: Option<Vec<u8>>,
) -> Result<(u16, String), String> {
    let mut r = app.client.request(m, url);
    if let Some(b) = body {
        r = r.body(b);
    }
    match r.send().await {
        Ok(resp) => {
            let s = resp.status().as_u16();
            Ok((s, resp.text().await.map_err(|e| format!("{e:?}"))?))
        }
        Err(e) => Err(format!("{e:?}")),
    }
}

#[tokio::test]
async fn scratch_repro() {
    let app = TestApp::spawn().await;
    app.create_app("web").await;
    let build = app.create_event("web", "buildEvent", json!({})).await;
    let mut bodies: Vec<Vec<u8>> = vec![];
    for d in [10usize, 127, 128, 129, 200, 599] {
        bodies.push(format!("{{\"branch\":{}{}}}", "[".repeat(d), "]".repeat(d)).into_bytes());
        bodies.push(format!("{}null{}", "{\"tags\":".repeat(d), "}".repeat(d)).into_bytes());
    }
    for s in [
        "",
        "null",
        "{",
        "}",
        "[",
        "{}}",
        "{\"branch\":1e400}",
        "{\"branch\":\"\\ud800\"}",
        "\u{feff}{}",
        "NaN",
        "{'a':1}",
    ] {
        bodies.push(s.as_bytes().to_vec());
    }
    bodies.push(vec![0xff, 0x00, 0x7b]);
    bodies.push(serde_json::to_vec(&json!({"branch": "s".repeat(4100)})).unwrap());
    bodies.push(serde_json::to_vec(&json!({"commit_msg": "m".repeat(65600), "a": "m".repeat(65600), "b": "m".repeat(65600)})).unwrap());
    let routes = [
        (Method::PUT, "/jdoe/apps/web/events/pushEvent".to_string()),
        (Method::POST, format!("/jdoe/apps/web/events/{build}")),
        (Method::PUT, "/jdoe/apps/prop-app".to_string()),
        (Method::PUT, "/jdoe/apps/web/envs/prop-env".to_string()),
        (Method::GET, "/jdoe/apps".to_string()),
    ];
    for (m, p) in &routes {
        for b in &bodies {
            let r = try_send(&app, m.clone(), &app.url(p), Some(b.clone())).await;
            let g = try_send(
                &app,
                Method::GET,
                &app.url("/jdoe/apps?max_results=100"),
                None,
            )
            .await;
            if r.is_err() || g.is_err() {
                eprintln!(
                    "PROBLEM {m} {p} body {:?} -> {:?} then GET {:?}",
                    String::from_utf8_lossy(&b[..b.len().min(80)]),
                    r.as_ref().map(|x| x.0),
                    g.as_ref().map(|x| x.0)
                );
            }
        }
    }
}
