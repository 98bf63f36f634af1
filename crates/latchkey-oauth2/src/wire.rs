//! The OAuth2 endpoints' untrusted input, parsed: form bodies, Basic client credentials and
//! Bearer tokens. Pure functions of bytes, so they can be fuzzed (`fuzz/`) apart from HTTP.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::collections::HashMap;

/// Why a form body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("the body must be application/x-www-form-urlencoded")]
    UnsupportedMediaType,
    #[error("the body is not valid UTF-8")]
    NotUtf8,
    /// RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once".
    #[error("parameter `{0}` was sent more than once")]
    Repeated(String),
}

/// Parses an `application/x-www-form-urlencoded` body (its content type given, parameters
/// after `;` allowed) into its parameters, each at most once.
pub fn parse_form(content_type: Option<&str>, body: &[u8]) -> Result<HashMap<String, String>, FormError> {
    let mime = content_type.unwrap_or("").split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(FormError::UnsupportedMediaType);
    }
    if std::str::from_utf8(body).is_err() {
        return Err(FormError::NotUtf8);
    }
    let mut params = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if params.insert(k.to_string(), v.into_owned()).is_some() {
            let mut name = k.into_owned();
            // The name goes back in the error: keep it short.
            name.truncate(name.char_indices().nth(64).map_or(name.len(), |(i, _)| i));
            return Err(FormError::Repeated(name));
        }
    }
    Ok(params)
}

/// An `Authorization` header that is not readable Basic credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadCredentials;

/// Reads `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1, RFC 7617):
/// the scheme case-insensitive, id and secret form-urldecoded.
pub fn parse_basic(header: &[u8]) -> Result<(String, String), BadCredentials> {
    let value = std::str::from_utf8(header).map_err(|_| BadCredentials)?;
    let (scheme, rest) = value.split_once(' ').ok_or(BadCredentials)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(BadCredentials);
    }
    let decoded = STANDARD.decode(rest.trim()).map_err(|_| BadCredentials)?;
    let decoded = String::from_utf8(decoded).map_err(|_| BadCredentials)?;
    let (id, secret) = decoded.split_once(':').ok_or(BadCredentials)?;
    Ok((form_decode(id), form_decode(secret)))
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// The token of an `Authorization: Bearer` header (RFC 6750 §2.1), if it is one.
pub fn parse_bearer(header: &[u8]) -> Option<&str> {
    let value = std::str::from_utf8(header).ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials() {
        let header = |s: &str| format!("Basic {}", STANDARD.encode(s)).into_bytes();
        assert_eq!(parse_basic(&header("svc:s%3Acret+x")), Ok(("svc".into(), "s:cret x".into())));
        assert_eq!(parse_basic(&header("a:b:c")), Ok(("a".into(), "b:c".into())), "the first colon splits");
        assert_eq!(parse_basic(b"bAsIc c3ZjOng="), Ok(("svc".into(), "x".into())));
        for bad in [&b"Basic"[..], b"Basic ", b"Bearer c3ZjOng=", b"Basic !!", b"Basic c3Zj", b"Basic \xc3\xa9"] {
            assert_eq!(parse_basic(bad), Err(BadCredentials), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn bearer_tokens() {
        assert_eq!(parse_bearer(b"Bearer abc"), Some("abc"));
        assert_eq!(parse_bearer(b"bearer  abc "), Some("abc"));
        assert_eq!(parse_bearer(b"Bearer "), None);
        assert_eq!(parse_bearer(b"Basic abc"), None);
        assert_eq!(parse_bearer(b"Bearer \xff"), None);
    }

    #[test]
    fn forms() {
        let form = "application/x-www-form-urlencoded";
        let got = parse_form(Some("Application/X-WWW-Form-Urlencoded; charset=utf-8"), b"a=1&b=%20x+y").unwrap();
        assert_eq!((got["a"].as_str(), got["b"].as_str()), ("1", " x y"));
        assert_eq!(parse_form(Some("text/plain"), b"a=1"), Err(FormError::UnsupportedMediaType));
        assert_eq!(parse_form(None, b"a=1"), Err(FormError::UnsupportedMediaType));
        assert_eq!(parse_form(Some(form), b"a=\xff"), Err(FormError::NotUtf8));
        assert_eq!(parse_form(Some(form), b"a=1&a=1"), Err(FormError::Repeated("a".into())));
        let long = format!("{0}=1&{0}=2", "n".repeat(1000));
        assert_eq!(parse_form(Some(form), long.as_bytes()), Err(FormError::Repeated("n".repeat(64))));
    }
}
