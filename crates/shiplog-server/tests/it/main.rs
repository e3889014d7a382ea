//! HTTP tests through the real router, on a real server bound to port 0.

mod helpers;
