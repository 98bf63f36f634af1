//! Sign-in (redirect) URIs: absolute, https unless the host is the local machine, no fragment
//! (RFC 6749 §3.1.2, RFC 8252 §7.3).

use latchkey_core::FieldError;
use std::fmt;
use url::{Host, Url};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new("redirect_uris", format!("`{s}`: {m}"));
        if s.len() > 2048 {
            return Err(err("must be at most 2048 characters"));
        }
        // The URL parser would drop or escape them; the URI is stored and compared as given.
        if s.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\u{feff}') {
            return Err(err("must not contain spaces or control characters"));
        }
        let url = Url::parse(s).map_err(|_| err("must be an absolute URI"))?;
        if s.contains('#') {
            return Err(err("must not contain a fragment"));
        }
        let local = match url.host() {
            Some(Host::Domain(d)) => d == "localhost",
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => return Err(err("must have a host")),
        };
        match url.scheme() {
            "https" => {}
            "http" if local => {}
            _ => return Err(err("must use https (http only for localhost)")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(err("must not contain credentials"));
        }
        Ok(RedirectUri(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::RedirectUri;

    #[track_caller]
    fn check(uri: &str, ok: bool) {
        assert_eq!(RedirectUri::parse(uri).is_ok(), ok, "{uri}");
    }

    #[test]
    fn redirect_uris() {
        check("https://app.example.com/callback", true);
        check("https://app.example.com/cb?x=1", true);
        check("http://localhost:3000/cb", true);
        check("http://127.0.0.1/cb", true);
        check("http://[::1]:8080/cb", true);
        check("http://app.example.com/cb", false);
        check("https://app.example.com/cb#frag", false);
        check("https://app.example.com/cb#", false);
        check("/relative/cb", false);
        check("app.example.com/cb", false);
        check("javascript:alert(1)", false);
        check("ftp://example.com/cb", false);
        check("https://user:pw@example.com/cb", false);
        check("https://app.example.com/\u{feff}cb", false);
        check("", false);
    }
}
