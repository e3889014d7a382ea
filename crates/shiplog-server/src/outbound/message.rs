//! A change as it leaves shiplog, in the format a stream or webhook asked
//! for: the Change object of ListChanges, or a CDEvent.

use shiplog_api::ChangeOut;
use shiplog_domain::Change;
use shiplog_domain::outbound::Format;
use shiplog_ingest::cdevents::binding::binary_headers;
use shiplog_store::Account;

use crate::error::ApiError;
use crate::state::SharedState;

/// A change written out.
pub struct Message {
    /// `change` or `cdevent`: the stream's event name.
    pub kind: &'static str,
    pub body: String,
    /// The headers a webhook sends it with: its content type and, for a
    /// CDEvent, the CloudEvents binary-mode attributes.
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
    let serialise =
        |err: serde_json::Error| ApiError::Internal(format!("serialising a change: {err}"));
    match format {
        Format::Shiplog => Ok(Some(Message {
            kind: "change",
            body: serde_json::to_string(&ChangeOut::from(change)).map_err(serialise)?,
            headers: vec![("content-type", "application/json".to_owned())],
        })),
        Format::Cdevents => {
            let Some(cdevent) = state
                .store
                .cdevent(account, &change, &state.public_url)
                .await?
            else {
                return Ok(None);
            };
            Ok(Some(Message {
                kind: "cdevent",
                headers: binary_headers(&cdevent),
                body: serde_json::to_string(&cdevent).map_err(serialise)?,
            }))
        }
    }
}
