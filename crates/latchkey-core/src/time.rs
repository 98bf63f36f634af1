//! Wall-clock time as whole seconds since the Unix epoch, the unit of JWT `iat`/`exp`.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub type UnixTime = i64;

/// The current time in seconds since the Unix epoch.
pub fn now() -> UnixTime {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
