//! The github mapping (to be written).

use crate::{Delivery, Headers, MapError};

pub fn map(_headers: &dyn Headers, _body: &serde_json::Value) -> Result<Delivery, MapError> {
    Err(MapError("not mapped yet".into()))
}
