//! Prometheus metrics: a small registry of atomics, served at `GET /metrics` in the text
//! exposition format 0.0.4.
//!
//! Recording is cheap enough for the token endpoint: a series is found under a read lock with
//! no allocation and bumped with relaxed atomics; only the first observation of a new series
//! takes the write lock. Label values are bounded: HTTP routes are the route *patterns* of the
//! router (`/oauth2/realms/{realm}/access_token`, never the raw path), realms are those that
//! exist (bounded by the admins), grant types and outcomes come from fixed lists.

use crate::state::InFlight;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{ConnectionType, Method};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use latchkey_storage::{CacheStats, PoolStats};
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};
use tracing_actix_web::RequestId;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
/// The route label of a request no route matched.
const UNMATCHED: &str = "unmatched";
/// Answered with every response, so a caller can quote it and an operator find its log lines.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Everything Latchkey counts. One per server, in [`crate::state::AppState`].
#[derive(Default)]
pub struct Metrics {
    /// By route pattern, then (method, status).
    http: Family<(&'static str, u16), Histogram>,
    /// By realm, then (grant type, outcome).
    tokens: Family<(&'static str, &'static str), AtomicU64>,
    /// By realm.
    client_auth_failures: Family<(), AtomicU64>,
    /// Client secret checks by argon2id, and by the fingerprint of an already verified secret.
    secrets_hashed: AtomicU64,
    secrets_cached: AtomicU64,
}

impl Metrics {
    /// One HTTP request answered.
    pub fn observe_http(&self, route: &str, method: &Method, status: u16, took: Duration) {
        self.http.with(route, (method_label(method), status), |h| h.observe(took));
    }

    /// One token request of an existing realm: `outcome` is `issued` or the OAuth error code.
    pub fn token(&self, realm: &str, grant_type: &'static str, outcome: &'static str) {
        self.tokens.with(realm, (grant_type, outcome), |c| c.fetch_add(1, Relaxed));
    }

    /// One failed client authentication at a realm's token, introspection or revocation endpoint.
    pub fn client_auth_failed(&self, realm: &str) {
        self.client_auth_failures.with(realm, (), |c| c.fetch_add(1, Relaxed));
    }

    /// One client secret checked: from the verified-secret cache, or by argon2id.
    pub fn secret_verified(&self, cached: bool) {
        if cached { &self.secrets_cached } else { &self.secrets_hashed }.fetch_add(1, Relaxed);
    }

    /// The text exposition of every metric, with the pool's state read now.
    pub fn render(&self, pool: PoolStats, cache: CacheStats) -> String {
        let mut out = String::with_capacity(8192);
        let w = &mut out;
        header(w, "latchkey_build_info", "gauge", "The running version of Latchkey (always 1).");
        line(w, "latchkey_build_info", &[("version", env!("CARGO_PKG_VERSION"))], 1);

        let name = "latchkey_http_request_duration_seconds";
        header(w, name, "histogram", "Time to answer an HTTP request, by route pattern, method and status.");
        self.http.for_each(|route, &(method, status), h| {
            let status = status.to_string();
            let labels = [("route", route), ("method", method), ("status", status.as_str())];
            h.render(w, name, &labels);
        });

        let name = "latchkey_tokens_total";
        header(
            w,
            name,
            "counter",
            "Token requests to a realm, by grant type and outcome (`issued` or the OAuth error).",
        );
        self.tokens.for_each(|realm, &(grant, outcome), c| {
            let labels = [("realm", realm), ("grant_type", grant), ("outcome", outcome)];
            line(w, name, &labels, c.load(Relaxed));
        });

        let name = "latchkey_client_auth_failures_total";
        header(w, name, "counter", "Failed client authentications at a realm's OAuth2 endpoints.");
        self.client_auth_failures.for_each(|realm, (), c| line(w, name, &[("realm", realm)], c.load(Relaxed)));

        let name = "latchkey_client_secret_checks_total";
        header(
            w,
            name,
            "counter",
            "Client secret checks, by argon2id or by the fingerprint of a secret argon2id already verified.",
        );
        line(w, name, &[("method", "argon2id")], self.secrets_hashed.load(Relaxed));
        line(w, name, &[("method", "cached")], self.secrets_cached.load(Relaxed));

        let name = "latchkey_cache_lookups_total";
        header(
            w,
            name,
            "counter",
            "Cached lookups (realm, provider settings, client, keys, revocations, admin list totals): from memory or the database.",
        );
        line(w, name, &[("result", "hit")], cache.hits);
        line(w, name, &[("result", "miss")], cache.misses);
        let name = "latchkey_cache_stale_total";
        header(
            w,
            name,
            "counter",
            "Times the token path's cache went stale (the change log unread for 1 s) and was dropped.",
        );
        line(w, name, &[], cache.stale_spells);

        let name = "latchkey_db_pool_connections";
        header(w, name, "gauge", "Open database connections, idle in the pool or in use.");
        line(w, name, &[("state", "idle")], pool.idle);
        line(w, name, &[("state", "in_use")], pool.in_use());
        let name = "latchkey_db_pool_max_connections";
        header(w, name, "gauge", "The most database connections the pool opens.");
        line(w, name, &[], pool.max);
        out
    }
}

/// Series keyed by one free-text label (route pattern or realm) and a small key of static
/// labels. Lookups take the read lock and allocate nothing.
struct Family<K, V> {
    series: RwLock<ByName<K, V>>,
}

/// Each free-text label value's series, by their static labels.
type ByName<K, V> = HashMap<Box<str>, Vec<(K, V)>>;

impl<K, V> Default for Family<K, V> {
    fn default() -> Self {
        Family { series: RwLock::default() }
    }
}

impl<K: Copy + PartialEq, V: Default> Family<K, V> {
    fn with<R>(&self, name: &str, key: K, f: impl FnOnce(&V) -> R) -> R {
        {
            let series = self.series.read().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, v)) = series.get(name).and_then(|list| list.iter().find(|(k, _)| *k == key)) {
                return f(v);
            }
        }
        let mut series = self.series.write().unwrap_or_else(PoisonError::into_inner);
        let list = series.entry(name.into()).or_default();
        let i = match list.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                list.push((key, V::default()));
                list.len() - 1
            }
        };
        f(&list[i].1)
    }

    /// Visits every series, sorted by name, each name's series in the order first seen.
    fn for_each(&self, mut f: impl FnMut(&str, &K, &V)) {
        let series = self.series.read().unwrap_or_else(PoisonError::into_inner);
        let mut names: Vec<&str> = series.keys().map(|k| &**k).collect();
        names.sort_unstable();
        for name in names {
            for (k, v) in &series[name] {
                f(name, k, v);
            }
        }
    }
}

/// A latency histogram: a count per bucket (not cumulative; the last is +Inf) and the sum.
#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        let i = BUCKETS.iter().position(|&le| seconds <= le).unwrap_or(BUCKETS.len());
        self.buckets[i].fetch_add(1, Relaxed);
        self.sum_nanos.fetch_add(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }

    fn render(&self, w: &mut String, name: &str, labels: &[(&str, &str)]) {
        let mut cumulative = 0;
        let bucket_name = format!("{name}_bucket");
        for (i, bucket) in self.buckets.iter().enumerate() {
            cumulative += bucket.load(Relaxed);
            let bound = BUCKETS.get(i).map_or_else(|| "+Inf".to_owned(), f64::to_string);
            line_with(w, &bucket_name, labels, &[("le", &bound)], cumulative);
        }
        // The sum is read after the buckets: it may include an observation the buckets do not.
        let sum = Duration::from_nanos(self.sum_nanos.load(Relaxed)).as_secs_f64();
        line(w, &format!("{name}_sum"), labels, sum);
        line(w, &format!("{name}_count"), labels, cumulative);
    }
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn header(w: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(w, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn line(w: &mut String, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
    line_with(w, name, labels, &[], value);
}

fn line_with(
    w: &mut String,
    name: &str,
    labels: &[(&str, &str)],
    more: &[(&str, &str)],
    value: impl std::fmt::Display,
) {
    w.push_str(name);
    for (i, (k, v)) in labels.iter().chain(more).enumerate() {
        w.push(if i == 0 { '{' } else { ',' });
        w.push_str(k);
        w.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => w.push_str("\\\\"),
                '"' => w.push_str("\\\""),
                '\n' => w.push_str("\\n"),
                c => w.push(c),
            }
        }
        w.push('"');
    }
    if !labels.is_empty() || !more.is_empty() {
        w.push('}');
    }
    let _ = writeln!(w, " {value}");
}

/// Middleware (inside the tracing root span): times each request, counts it by route pattern,
/// method and status, answers the request id in `X-Request-Id`, and while the server shuts
/// down, closes the connection after the response.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let Some(state) = req.app_data::<web::Data<crate::state::AppState>>().cloned() else {
        return next.call(req).await;
    };
    // Matching the pattern walks the routes: the root span did it already.
    let found = req.extensions_mut().remove::<crate::telemetry::Route>();
    let route = found.map_or_else(|| req.match_pattern().map(Arc::from), |r| r.0);
    let route = route.as_deref().unwrap_or(UNMATCHED);
    let method = req.method().clone();
    let request_id = req.extensions().get::<RequestId>().copied();
    let in_flight = InFlight::start(&state.traffic);
    let mut res = match next.call(req).await {
        Ok(res) => res,
        Err(e) => {
            // Not a response yet: counted with the status it will be answered with.
            state.metrics.observe_http(route, &method, e.as_response_error().status_code().as_u16(), start.elapsed());
            return Err(e);
        }
    };
    state.metrics.observe_http(route, &method, res.status().as_u16(), start.elapsed());
    drop(in_flight);
    // Shutting down: the client learns from this response not to send another on this connection.
    if state.traffic.draining.load(Relaxed) {
        res.response_mut().head_mut().set_connection_type(ConnectionType::Close);
    }
    if let Some(id) = request_id
        && let Ok(v) = HeaderValue::from_str(&id.to_string())
    {
        res.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_text_format() {
        let m = Metrics::default();
        m.observe_http("/oauth2/realms/{realm}/access_token", &Method::POST, 200, Duration::from_millis(3));
        m.observe_http("/oauth2/realms/{realm}/access_token", &Method::POST, 200, Duration::from_secs(20));
        m.token("customers", "client_credentials", "issued");
        m.token("customers", "client_credentials", "issued");
        m.token("customers", "unknown", "unsupported_grant_type");
        m.client_auth_failed("customers");
        let text = m.render(PoolStats { open: 3, idle: 2, max: 8 }, CacheStats { hits: 5, misses: 2, stale_spells: 1 });
        let route = r#"route="/oauth2/realms/{realm}/access_token",method="POST",status="200""#;
        for expected in [
            format!(r#"latchkey_http_request_duration_seconds_bucket{{{route},le="0.0025"}} 0"#),
            format!(r#"latchkey_http_request_duration_seconds_bucket{{{route},le="0.005"}} 1"#),
            format!(r#"latchkey_http_request_duration_seconds_bucket{{{route},le="10"}} 1"#),
            format!(r#"latchkey_http_request_duration_seconds_bucket{{{route},le="+Inf"}} 2"#),
            format!(r#"latchkey_http_request_duration_seconds_sum{{{route}}} 20.003"#),
            format!(r#"latchkey_http_request_duration_seconds_count{{{route}}} 2"#),
            r#"latchkey_tokens_total{realm="customers",grant_type="client_credentials",outcome="issued"} 2"#.into(),
            r#"latchkey_tokens_total{realm="customers",grant_type="unknown",outcome="unsupported_grant_type"} 1"#
                .into(),
            r#"latchkey_client_auth_failures_total{realm="customers"} 1"#.into(),
            r#"latchkey_db_pool_connections{state="idle"} 2"#.into(),
            r#"latchkey_db_pool_connections{state="in_use"} 1"#.into(),
            "latchkey_db_pool_max_connections 8".into(),
            r#"latchkey_cache_lookups_total{result="hit"} 5"#.into(),
            r#"latchkey_cache_lookups_total{result="miss"} 2"#.into(),
            "latchkey_cache_stale_total 1".into(),
            "# TYPE latchkey_http_request_duration_seconds histogram".into(),
        ] {
            assert!(text.lines().any(|l| l == expected), "missing `{expected}` in:\n{text}");
        }
    }

    #[test]
    fn escapes_label_values() {
        let mut w = String::new();
        line(&mut w, "m", &[("a", "x\"y\\z\nw")], 1);
        assert_eq!(w, "m{a=\"x\\\"y\\\\z\\nw\"} 1\n");
    }
}
