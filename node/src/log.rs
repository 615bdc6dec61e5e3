//! The core's `tracing` events (a lock lost, a renewal failing, a watch resubscribing) as JS
//! log records. A minimal `tracing` subscriber forwards every event at or above the chosen
//! level to one JS function (`lib/log.js` fans it out to the user's logger and the
//! `fencelock:log` diagnostics channel). Spans are not used by the core and are ignored.
//!
//! Cost when off: the level check is one atomic load per event site, and `register_callsite`
//! says "sometimes" so the level can change at run time.

use napi::bindgen_prelude::Unknown;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{OnceLock, RwLock};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

/// One log record as JS receives it.
#[napi(object)]
pub struct LogRecord {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub level: String,
    /// The module that logged, e.g. `fencelock::guard`.
    pub target: String,
    /// The message.
    pub message: String,
    /// The event's other fields (e.g. `key`, `token`, `error`), formatted as strings.
    pub fields: HashMap<String, String>,
}

/// Records waiting for the JS thread beyond this are dropped: a logger that cannot keep up
/// must not grow memory. Held weakly, so it never keeps the process alive.
type LogSink =
    ThreadsafeFunction<LogRecord, Unknown<'static>, LogRecord, Status, false, true, 1024>;

static SINK: RwLock<Option<LogSink>> = RwLock::new(None);
/// 0 = off, 1 = error … 5 = trace.
static LEVEL: AtomicU8 = AtomicU8::new(0);
/// Whether the forwarder became this process's `tracing` subscriber (tried once).
static INSTALLED: OnceLock<bool> = OnceLock::new();

fn rank(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

fn parse_level(name: &str) -> napi::Result<u8> {
    Ok(match name {
        "off" => 0,
        "error" => 1,
        "warn" => 2,
        "info" => 3,
        "debug" => 4,
        "trace" => 5,
        other => {
            return Err(napi::Error::new(
                Status::InvalidArg,
                format!(
                    "log level must be 'off', 'error', 'warn', 'info', 'debug' or 'trace', \
                     not {other:?}"
                ),
            ))
        }
    })
}

/// Sends every core event at `level` or above to `sink`; `level` `'off'` (or no sink) stops.
/// Returns false when another `tracing` subscriber was installed in this process first (by
/// another Rust addon), in which case nothing can be forwarded.
#[napi(
    js_name = "_setLogSink",
    ts_args_type = "sink: ((record: LogRecord) => void) | null, level: string"
)]
pub fn set_log_sink(sink: Option<LogSink>, level: String) -> napi::Result<bool> {
    let rank = if sink.is_some() {
        parse_level(&level)?
    } else {
        0
    };
    let installed =
        *INSTALLED.get_or_init(|| tracing::subscriber::set_global_default(Forwarder).is_ok());
    *SINK.write().unwrap_or_else(|p| p.into_inner()) = sink;
    LEVEL.store(rank, Ordering::Relaxed);
    Ok(installed)
}

struct Forwarder;

impl Subscriber for Forwarder {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event() && rank(metadata.level()) <= LEVEL.load(Ordering::Relaxed)
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let sink = SINK.read().unwrap_or_else(|p| p.into_inner());
        let Some(sink) = sink.as_ref() else { return };
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let record = LogRecord {
            level: meta.level().as_str().to_ascii_lowercase(),
            target: meta.target().to_owned(),
            message: fields.message,
            fields: fields.rest,
        };
        // Non-blocking: a full queue drops the record rather than stall a runtime thread.
        let _ = sink.call(record, ThreadsafeFunctionCallMode::NonBlocking);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[derive(Default)]
struct Fields {
    message: String,
    rest: HashMap<String, String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.rest.insert(field.name().to_owned(), value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.rest.insert(field.name().to_owned(), text);
        }
    }
}
