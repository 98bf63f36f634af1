//! Small browser helpers: encodings, random secrets, the clipboard, dates, JWT and JSON display.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use wasm_bindgen::JsValue;

/// `application/x-www-form-urlencoded` encoding of one value (WHATWG URL, the byte serializer):
/// ASCII letters, digits and `*-._` stay, a space becomes `+`, every other byte is `%XX`.
pub fn form_urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `Authorization: Basic …` for client_secret_basic: id and secret are each form-urlencoded
/// before base64, as RFC 6749 §2.3.1 asks.
pub fn basic_auth(client_id: &str, secret: &str) -> String {
    let pair = format!("{}:{}", form_urlencode(client_id), form_urlencode(secret));
    format!("Basic {}", STANDARD.encode(pair))
}

/// 32 random bytes from `crypto.getRandomValues`, base64url without padding (43 characters).
pub fn random_secret() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    let crypto = web_sys::window().ok_or("no window")?.crypto().map_err(|_| "no crypto")?;
    crypto.get_random_values_with_u8_array(&mut bytes).map_err(|_| "getRandomValues failed")?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Copies text with `navigator.clipboard.writeText`.
pub async fn copy_to_clipboard(text: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let promise = window.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.map(|_| ()).map_err(|_| "the clipboard refused".into())
}

/// This page's origin, e.g. `http://127.0.0.1:8091`.
pub fn origin() -> String {
    web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()
}

/// Seconds since the Unix epoch as `YYYY-MM-DD HH:MM UTC`.
pub fn format_time(secs: i64) -> String {
    let d = js_sys::Date::new(&JsValue::from_f64(secs as f64 * 1000.0));
    let iso = String::from(d.to_iso_string());
    // 2024-05-01T12:34:56.000Z
    match (iso.get(0..10), iso.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => iso,
    }
}

/// Pretty-prints JSON text; text that is not JSON is returned as it is.
pub fn pretty_json(text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_else(|_| text.to_owned()),
        Err(_) => text.to_owned(),
    }
}

/// The header and claims of a compact JWS, base64url-decoded and pretty-printed (not verified).
pub fn decode_jwt(token: &str) -> Result<(String, String), String> {
    let mut parts = token.split('.');
    let (Some(h), Some(c)) = (parts.next(), parts.next()) else {
        return Err("the access token is not a JWT".into());
    };
    let part = |p: &str| -> Result<String, String> {
        let bytes = URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).map_err(|e| format!("not base64url: {e}"))?;
        let text = String::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
        Ok(pretty_json(&text))
    };
    Ok((part(h)?, part(c)?))
}

/// Sets the document title: `{page} · Latchkey`.
pub fn set_title(page: &str) {
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        doc.set_title(&format!("{page} · Latchkey"));
    }
}

/// Focuses the element with this id once it is rendered.
pub fn focus_id(id: &'static str) {
    leptos::prelude::request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(id))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}

/// Splits on whitespace into distinct tokens (scopes), keeping order.
pub fn tokens(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in s.split_whitespace() {
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    out
}

/// Non-empty trimmed lines (sign-in URLs).
pub fn lines(s: &str) -> Vec<String> {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// `Some(trimmed)` unless blank.
pub fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_urlencoding_follows_whatwg() {
        assert_eq!(form_urlencode("a b+c~d/é"), "a+b%2Bc%7Ed%2F%C3%A9");
        assert_eq!(form_urlencode("my-app_1.x*"), "my-app_1.x*");
    }

    #[test]
    fn basic_auth_encodes_each_part() {
        // "a:b" with the colon in the id encoded: "a%3Ab:s+s"
        assert_eq!(basic_auth("a:b", "s s"), format!("Basic {}", STANDARD.encode("a%3Ab:s+s")));
    }

    #[test]
    fn tokens_and_lines() {
        assert_eq!(tokens(" a  b a "), vec!["a", "b"]);
        assert_eq!(lines(" x \n\n y"), vec!["x", "y"]);
    }
}
