//! A small WebDriver client for the browser tests: starts Debian's
//! `chromedriver` with headless Chromium and speaks the W3C protocol over
//! HTTP, the few commands the tests need.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The W3C id of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Whether the browser and its driver are installed.
pub fn available() -> bool {
    Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists()
}

/// A running chromedriver and one browser session; both end on drop.
pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium
    /// whose console messages are kept.
    pub async fn start() -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        // The driver takes a moment to listen: wait for it, boundedly.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = http.get(format!("{base}/status")).send().await;
            if let Ok(answer) = ready
                && answer.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,900",
                         "--force-device-scale-factor=1", "--lang=en-US"]
            },
            "goog:loggingPrefs": {"browser": "ALL"},
            "timeouts": {"implicit": 5000, "pageLoad": 20000, "script": 10000}
        }}});
        let answer: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session JSON");
        let id = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"));
        Browser {
            driver,
            http,
            session: format!("{base}/session/{id}"),
        }
    }

    async fn try_command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .await
            .map_err(|err| format!("{method} {path}: {err}"))?
            .json()
            .await
            .map_err(|err| format!("{method} {path}: {err}"))?;
        match answer["value"]["error"].as_str() {
            Some(error) => Err(format!(
                "{method} {path}: {error}: {}",
                answer["value"]["message"].as_str().unwrap_or("")
            )),
            None => Ok(answer["value"].clone()),
        }
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.try_command(method, path, body)
            .await
            .unwrap_or_else(|err| panic!("{err}"))
    }

    /// Clicks what leads to another page (a link, a form's button) and
    /// waits, boundedly, until that page has loaded.
    pub async fn follow(&self, css: &str) {
        let before = self.url().await;
        self.click(css).await;
        let deadline = Instant::now() + Duration::from_secs(15);
        let script = json!({"script": "return [location.href, document.readyState];", "args": []});
        loop {
            let state = self
                .try_command(reqwest::Method::POST, "/execute/sync", Some(script.clone()))
                .await;
            if let Ok(state) = state
                && state[0] != json!(before)
                && state[1] == "complete"
            {
                return;
            }
            assert!(Instant::now() < deadline, "clicking {css} led nowhere");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.command(reqwest::Method::GET, path, None).await
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url})).await;
    }

    pub async fn url(&self) -> String {
        self.get("/url")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The first element matching a CSS selector, waiting for it a while.
    pub async fn find(&self, css: &str) -> String {
        let found = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    /// How many elements match a CSS selector now.
    pub async fn count(&self, css: &str) -> usize {
        let script = "return document.querySelectorAll(arguments[0]).length;";
        self.execute(script, json!([css]))
            .await
            .as_u64()
            .unwrap_or(0) as usize
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.post(&format!("/element/{element}/click"), json!({}))
            .await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.post(&format!("/element/{element}/clear"), json!({}))
            .await;
        self.post(&format!("/element/{element}/value"), json!({"text": text}))
            .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        let text = self.get(&format!("/element/{element}/text")).await;
        text.as_str().unwrap_or_default().to_owned()
    }

    pub async fn execute(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// Resizes the window to `width`, tall enough for the whole page.
    pub async fn fit(&self, width: u32) {
        self.post("/window/rect", json!({"width": width, "height": 900}))
            .await;
        let height = self
            .execute("return document.documentElement.scrollHeight;", json!([]))
            .await
            .as_u64()
            .unwrap_or(900)
            .clamp(400, 4000);
        self.post(
            "/window/rect",
            json!({"width": width, "height": height + 120}),
        )
        .await;
    }

    /// A PNG of the window.
    pub async fn screenshot(&self, to: &Path) {
        let data = self.get("/screenshot").await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().expect("base64 PNG"))
            .expect("PNG bytes");
        std::fs::write(to, png).expect("screenshot written");
    }

    /// The browser console's errors since the last call.
    pub async fn console_errors(&self) -> Vec<String> {
        let entries = self.post("/se/log", json!({"type": "browser"})).await;
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}
