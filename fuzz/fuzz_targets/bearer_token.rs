//! The Bearer `Authorization` header (RFC 6750 §2.1) of the admin API and tokeninfo.
#![no_main]
use latchkey_oauth2::wire::parse_bearer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(token) = parse_bearer(data) {
        assert!(!token.is_empty());
        assert_eq!(token, token.trim());
        let text = std::str::from_utf8(data).expect("a token comes from UTF-8");
        assert!(text.get(..7).is_some_and(|s| s.eq_ignore_ascii_case("bearer ")), "{text:?}");
        assert!(text.contains(token));
    }
});
