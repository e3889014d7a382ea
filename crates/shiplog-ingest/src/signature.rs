//! The authentication of a delivery (to be written).
