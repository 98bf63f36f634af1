//! Sign-in (redirect) URIs from the admin API: one that is accepted is absolute, has a host,
//! no fragment and no credentials, and is https unless it is the local machine.
#![no_main]
use latchkey_applications::RedirectUri;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(uri) = RedirectUri::parse(text) {
        assert_eq!(uri.as_str(), text);
        assert!(!text.contains('#'));
        let url = url::Url::parse(text).expect("absolute");
        assert!(url.host().is_some());
        assert!(url.username().is_empty() && url.password().is_none());
        assert!(url.scheme() == "https" || url.scheme() == "http");
    }
});
