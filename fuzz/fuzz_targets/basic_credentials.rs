//! The Basic `Authorization` header of client_secret_basic. Any header is parsed without panic;
//! and any id and secret, encoded as RFC 6749 §2.3.1 says, come back unchanged.
#![no_main]
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use latchkey_oauth2::wire::parse_basic;
use libfuzzer_sys::fuzz_target;

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fuzz_target!(|data: &[u8]| {
    if let Ok((id, secret)) = parse_basic(data) {
        let again = format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(&id), encode(&secret))));
        assert_eq!(parse_basic(again.as_bytes()), Ok((id, secret)));
    }
    // The data as an id and a secret (split at the first NUL).
    let text = String::from_utf8_lossy(data);
    let (id, secret) = text.split_once('\0').unwrap_or((&text, ""));
    let header = format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(id), encode(secret))));
    assert_eq!(parse_basic(header.as_bytes()), Ok((id.to_owned(), secret.to_owned())));
});
