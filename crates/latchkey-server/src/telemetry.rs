//! Logging: `tracing` to stderr, as text or as one JSON object per line
//! (`LATCHKEY_LOG_FORMAT`), filtered by `RUST_LOG` (default `info`).
//!
//! Every request runs in a root span (`HTTP request`) carrying its `request_id`, so every line
//! logged while serving it names the request: in text, in the line's span prefix; in JSON, as a
//! top-level `request_id`. The span closes with one line per request (status, time); the id is
//! answered in `X-Request-Id`. The span holds the path without its query string, and no
//! header: nothing logs secrets, tokens, passwords, `Authorization` headers or the database URL.

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::io::IsTerminal;
use std::sync::Arc;
use tracing::Span;
use tracing::field::Empty;
use tracing::{Event, Subscriber};
use tracing_actix_web::{RequestId, RootSpanBuilder};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{FmtSpan, JsonFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// For people: `timestamp level spans: message fields`.
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `request_id` (inside a
    /// request), the event's fields (`message`, …), and `spans` (outermost first).
    Json,
}

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sqlx::postgres::notice=warn"));
    // A log that cannot be written (stderr sent to a file on a full disk) loses lines; with
    // `log_internal_errors`, the subscriber would report that on stderr with `eprintln!`,
    // which panics when stderr fails, and the panic would take down the request.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_span_events(FmtSpan::CLOSE)
        .log_internal_errors(false);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        LogFormat::Json => builder.fmt_fields(JsonFields::new()).event_format(JsonLines).try_init(),
    };
}

/// One JSON object per event: `timestamp`, `level`, `target`, the `request_id` of the request
/// being served (also on the line that closes its span), the event's fields (`message`, …),
/// and `spans`, outermost first, each with its `name` and fields.
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let parse = |json: &str| serde_json::from_str::<Map<String, Value>>(json).unwrap_or_default();
        let mut line = Map::new();
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        line.insert("timestamp".into(), timestamp.into());
        line.insert("level".into(), event.metadata().level().as_str().into());
        line.insert("target".into(), event.metadata().target().into());
        let mut spans = Vec::new();
        // The event's scope: for the line that closes a span, that span and its parents.
        for span in ctx.event_scope().into_iter().flat_map(|scope| scope.from_root()) {
            let mut fields = Map::new();
            fields.insert("name".into(), span.name().into());
            if let Some(f) = span.extensions().get::<FormattedFields<N>>() {
                fields.extend(parse(f.as_str()));
            }
            if let Some(id) = fields.get("request_id").filter(|_| !line.contains_key("request_id")) {
                line.insert("request_id".into(), id.clone());
            }
            spans.push(Value::Object(fields));
        }
        let mut fields = String::new();
        JsonFields::new().format_fields(Writer::new(&mut fields), event)?;
        for (k, v) in parse(&fields) {
            line.entry(k).or_insert(v);
        }
        if !spans.is_empty() {
            line.insert("spans".into(), spans.into());
        }
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// The root span of every request (for `tracing_actix_web::TracingLogger`).
pub struct RootSpan;

/// The route pattern the root span found, handed to the metrics.
pub struct Route(pub Option<Arc<str>>);

/// Paths remembered per worker thread at most; beyond, the memory starts over.
const MAX_ROUTES: usize = 16_384;

/// The route pattern of the request's path. Matching walks the routes and runs a regex per
/// dynamic segment (about 2 µs, 3 % of a token request's CPU), and a path always matches the
/// same pattern: so it is remembered by path, per worker thread, up to a bound.
fn route_of(request: &ServiceRequest) -> Option<Arc<str>> {
    thread_local! {
        static ROUTES: RefCell<HashMap<Box<str>, Option<Arc<str>>>> = RefCell::default();
    }
    ROUTES.with_borrow_mut(|routes| {
        if let Some(route) = routes.get(request.path()) {
            return route.clone();
        }
        let route: Option<Arc<str>> = request.match_pattern().map(Arc::from);
        if routes.len() >= MAX_ROUTES {
            routes.clear();
        }
        routes.insert(request.path().into(), route.clone());
        route
    })
}

impl RootSpanBuilder for RootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request.extensions().get::<RequestId>().copied();
        let route = route_of(request);
        request.extensions_mut().insert(Route(route.clone()));
        let user_agent = request.headers().get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("");
        let peer = request.peer_addr().map(|a| a.ip());
        tracing::info_span!(
            "HTTP request",
            request_id = request_id.map(tracing::field::display),
            http.method = %request.method(),
            http.route = route.as_deref().unwrap_or("unmatched"),
            // The path only: a query string may carry a token.
            http.target = request.path(),
            http.client_ip = peer.map(tracing::field::display),
            http.user_agent = user_agent,
            http.status_code = Empty,
            exception.message = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        let (status, error) = match outcome {
            Ok(res) => (res.status(), res.response().error()),
            Err(e) => (e.as_response_error().status_code(), Some(e)),
        };
        span.record("http.status_code", status.as_u16());
        // A 4xx is the caller's doing and its message may echo what the caller sent; a 5xx's
        // cause is logged where it happened, and its message is opaque.
        if status.is_server_error()
            && let Some(e) = error
        {
            span.record("exception.message", tracing::field::display(e));
        }
    }
}
