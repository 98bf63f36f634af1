//! The OAuth2 endpoints' form body: the first byte picks a content type, the rest is the body.
//! A body that parses re-serialises to one that parses to the same parameters.
#![no_main]
use latchkey_oauth2::wire::{FormError, parse_form};
use libfuzzer_sys::fuzz_target;

const TYPES: [Option<&str>; 4] = [
    Some("application/x-www-form-urlencoded"),
    Some("application/x-www-form-urlencoded; charset=UTF-8"),
    Some("text/plain"),
    None,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let content_type = TYPES[usize::from(pick) % TYPES.len()];
    match parse_form(content_type, body) {
        Ok(params) => {
            assert!(content_type.is_some_and(|t| t.starts_with("application/")));
            let again: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
            assert_eq!(parse_form(content_type, again.as_bytes()).as_ref(), Ok(&params));
        }
        Err(FormError::UnsupportedMediaType) => assert!(!content_type.is_some_and(|t| t.starts_with("application/"))),
        Err(FormError::NotUtf8) => assert!(std::str::from_utf8(body).is_err()),
        Err(FormError::Repeated(name)) => assert!(name.chars().count() <= 64),
    }
});
