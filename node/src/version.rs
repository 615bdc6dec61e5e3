//! The core's version, which `require('fencelock').version` reports.

use napi_derive::napi;

/// The version of the fencelock core this addon was built from, e.g. "0.1.0".
#[napi]
pub fn version() -> &'static str {
    fencelock::VERSION
}
