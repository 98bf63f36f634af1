//! Console sessions: an administrator of the `root` realm signs in with username and password
//! and gets an opaque token in an HttpOnly cookie. The database keeps only the token's digest.
//! The CSRF token is derived from the session token, so it needs no storage of its own and is
//! useless without the cookie.
//!
//! Failed sign-ins are throttled per username and per source address, in memory: after
//! [`FREE_FAILURES`] failures each further attempt waits twice as long as the last (up to
//! [`MAX_DELAY`]), and a throttled attempt is refused before any password hashing.

use crate::error::AdminError;
use crate::state::AppState;
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::Method;
use latchkey_core::secret::{constant_time_eq, digest};
use latchkey_core::time::now;
use latchkey_storage::AdminSession;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const COOKIE: &str = "latchkey_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The cookie goes only to the admin API.
const COOKIE_PATH: &str = "/admin/v1";

/// The CSRF token that goes with a session token.
pub fn csrf_token(session_token: &str) -> String {
    digest(&format!("latchkey-csrf:{session_token}"))
}

/// The session cookie for a new session.
pub fn cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build(COOKIE, token)
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.public_url.starts_with("https://"))
        .max_age(CookieDuration::seconds(state.sessions.lifetime))
        .finish()
}

/// A cookie that makes the browser forget the session.
pub fn removal_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = cookie(state, String::new());
    c.make_removal();
    c
}

/// A live session found from the request's cookie.
pub struct Authenticated {
    pub token: String,
    pub session: AdminSession,
}

/// The request's session, if its cookie names a live one of an enabled administrator of the
/// `root` realm. A session past its idle or absolute expiry is deleted on the way.
pub async fn authenticate(state: &AppState, req: &HttpRequest) -> Result<Option<Authenticated>, AdminError> {
    let Some(token) = req.cookie(COOKIE).map(|c| c.value().to_owned()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let key = digest(&token);
    let Some(session) = state.store.find_admin_session(&key).await? else {
        return Ok(None);
    };
    let t = now();
    let expired = t >= session.expires_at || t - session.last_seen_at >= state.sessions.idle_timeout;
    let allowed = session.user.enabled && session.user.is_admin && state.root_realm_id().await? == session.realm;
    if expired || !allowed {
        state.store.delete_admin_session(&key).await?;
        return Ok(None);
    }
    // Second resolution: at most one write per second per session.
    if t > session.last_seen_at {
        state.store.touch_admin_session(&key, t).await?;
    }
    Ok(Some(Authenticated { token, session }))
}

/// Whether a request authenticated by the cookie may go on: safe methods always, others only
/// with the session's CSRF token in [`CSRF_HEADER`].
pub fn csrf_ok(req: &HttpRequest, session_token: &str) -> bool {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    constant_time_eq(sent, &csrf_token(session_token))
}

/// Failures before attempts are slowed down.
pub const FREE_FAILURES: u32 = 5;
/// The longest wait between attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// A key with no failure for this long starts afresh.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// Bound on remembered keys; beyond it, forgotten keys are pruned.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Failures {
    fn delay(&self) -> Duration {
        match self.count.checked_sub(FREE_FAILURES) {
            None => Duration::ZERO,
            Some(n) => Duration::from_secs(1u64 << n.min(20)).min(MAX_DELAY),
        }
    }
}

/// Failed sign-ins per key (`user:NAME`, `addr:IP`).
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, Failures>>,
}

impl LoginThrottle {
    /// The keys a sign-in attempt counts against.
    pub fn keys(username: &str, req: &HttpRequest) -> Vec<String> {
        let name: String = username.to_lowercase().chars().take(128).collect();
        let mut keys = vec![format!("user:{name}")];
        if let Some(addr) = req.peer_addr() {
            keys.push(format!("addr:{}", addr.ip()));
        }
        keys
    }

    /// Whole seconds to wait before the next attempt may be tried, if any key must wait.
    pub fn wait(&self, keys: &[String]) -> Option<u64> {
        let map = self.failures.lock().expect("throttle poisoned");
        keys.iter()
            .filter_map(|k| map.get(k))
            .filter_map(|f| f.delay().checked_sub(f.last.elapsed()))
            .filter(|d| !d.is_zero())
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
            .max()
    }

    pub fn failed(&self, keys: &[String]) {
        let mut map = self.failures.lock().expect("throttle poisoned");
        if map.len() > PRUNE_ABOVE {
            map.retain(|_, f| f.last.elapsed() < FORGET_AFTER);
        }
        for k in keys {
            let f = map.entry(k.clone()).or_insert(Failures { count: 0, last: Instant::now() });
            if f.last.elapsed() >= FORGET_AFTER {
                f.count = 0;
            }
            f.count += 1;
            f.last = Instant::now();
        }
    }

    pub fn succeeded(&self, keys: &[String]) {
        let mut map = self.failures.lock().expect("throttle poisoned");
        for k in keys {
            map.remove(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_free_then_doubling_then_capped() {
        let f = |count| Failures { count, last: Instant::now() }.delay();
        assert_eq!(f(0), Duration::ZERO);
        assert_eq!(f(FREE_FAILURES - 1), Duration::ZERO);
        assert_eq!(f(FREE_FAILURES), Duration::from_secs(1));
        assert_eq!(f(FREE_FAILURES + 3), Duration::from_secs(8));
        assert_eq!(f(FREE_FAILURES + 40), MAX_DELAY);
    }

    #[test]
    fn throttle_waits_after_free_failures_and_forgets_on_success() {
        let t = LoginThrottle::default();
        let keys = vec!["user:admin".to_owned()];
        for _ in 0..FREE_FAILURES - 1 {
            t.failed(&keys);
        }
        assert_eq!(t.wait(&keys), None);
        t.failed(&keys);
        assert_eq!(t.wait(&keys), Some(1));
        assert_eq!(t.wait(&["user:other".to_owned()]), None);
        t.succeeded(&keys);
        assert_eq!(t.wait(&keys), None);
    }

    #[test]
    fn csrf_token_is_bound_to_the_session() {
        assert_eq!(csrf_token("a"), csrf_token("a"));
        assert_ne!(csrf_token("a"), csrf_token("b"));
        assert_ne!(csrf_token("a"), digest("a"), "the CSRF token must not be the stored digest");
    }
}
