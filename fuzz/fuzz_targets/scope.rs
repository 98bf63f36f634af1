//! Scope strings (RFC 6749 §3.3) from the token request: a set that parses is made of NQCHAR
//! tokens within the limits, and its text parses back to the same set.
#![no_main]
use latchkey_core::ScopeSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(set) = ScopeSet::parse_delimited(text) {
        assert!(set.len() <= 100);
        for scope in set.iter() {
            let s = scope.as_str();
            assert!(!s.is_empty() && s.len() <= 256);
            assert!(s.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b)));
        }
        let again = ScopeSet::parse_delimited(&set.to_vec().join(" ")).expect("a set's text parses");
        assert_eq!(again, set);
    }
});
