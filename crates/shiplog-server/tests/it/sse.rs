//! A client of the live stream for the tests: reads server-sent events
//! from a real connection, message by message.

use std::time::Duration;

/// One message of the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

impl Message {
    pub fn change_id(&self) -> i64 {
        self.id
            .as_deref()
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("a change id in {self:?}"))
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap_or_else(|err| panic!("{err}: {}", self.data))
    }
}

/// An open stream.
pub struct Stream {
    response: reqwest::Response,
    buffer: String,
    /// Comment lines seen (keep-alives).
    pub comments: usize,
}

impl Stream {
    /// Opens `url` with `headers`; panics unless it answers 200 as an
    /// event stream.
    pub async fn open(url: &str, headers: &[(&str, &str)]) -> Stream {
        let mut request = reqwest::Client::new().get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the stream opens");
        assert_eq!(response.status(), 200, "opening {url}");
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        Stream {
            response,
            buffer: String::new(),
            comments: 0,
        }
    }

    /// The next message, or none if the stream ends or none comes within
    /// `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<Message> {
        loop {
            if let Some(message) = self.take_message() {
                return Some(message);
            }
            match tokio::time::timeout(wait, self.response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// The next `count` messages; panics if they do not come in time.
    pub async fn take(&mut self, count: usize) -> Vec<Message> {
        let mut messages = Vec::with_capacity(count);
        while messages.len() < count {
            let message = self
                .next(Duration::from_secs(20))
                .await
                .unwrap_or_else(|| panic!("only {} of {count} messages came", messages.len()));
            messages.push(message);
        }
        messages
    }

    fn take_message(&mut self) -> Option<Message> {
        loop {
            let end = self.buffer.find("\n\n")?;
            let block: String = self.buffer.drain(..end + 2).collect();
            let mut message = Message {
                id: None,
                event: None,
                data: String::new(),
            };
            let mut fields = false;
            for line in block.lines() {
                if line.starts_with(':') {
                    self.comments += 1;
                    continue;
                }
                let (name, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                fields = true;
                match name {
                    "id" => message.id = Some(value.to_owned()),
                    "event" => message.event = Some(value.to_owned()),
                    "data" => {
                        if !message.data.is_empty() {
                            message.data.push('\n');
                        }
                        message.data.push_str(value);
                    }
                    _ => {}
                }
            }
            if fields {
                return Some(message);
            }
        }
    }
}
