//! Admin API bodies: decoded as the server decodes them (serde, unknown fields refused), then
//! every field through the domain's own parser. Nothing panics; what is accepted keeps its
//! limits.
#![no_main]
use latchkey_api_types::admin::{CreateApplication, CreateRealm, CreateUser, PatchApplication, PatchOAuth2Provider};
use latchkey_applications::{ClientId, RedirectUri};
use latchkey_core::ScopeSet;
use libfuzzer_sys::fuzz_target;

fn scopes(v: &Option<Vec<String>>) {
    if let Some(v) = v {
        if let Ok(set) = ScopeSet::from_tokens(v.iter().map(String::as_str)) {
            assert!(set.len() <= 100);
        }
    }
}

fn uris(v: &Option<Vec<String>>) {
    for u in v.iter().flatten() {
        if RedirectUri::parse(u).is_ok() {
            assert!(u.len() <= 2048);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    match pick % 5 {
        0 => {
            let Ok(r) = serde_json::from_slice::<CreateRealm>(body) else { return };
            if let Ok(name) = latchkey_realms::RealmName::parse(&r.name) {
                assert!((1..=63).contains(&name.as_str().len()));
            }
            if let Some(d) = &r.display_name {
                if let Ok(d) = latchkey_realms::parse_display_name(d) {
                    assert!(d.chars().count() <= 255 && !d.chars().any(char::is_control));
                }
            }
        }
        1 => {
            let Ok(a) = serde_json::from_slice::<CreateApplication>(body) else { return };
            if let Some(id) = &a.client_id {
                if let Ok(id) = ClientId::parse(id) {
                    assert!(id.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
                }
            }
            scopes(&a.allowed_scopes);
            scopes(&a.default_scopes);
            uris(&a.redirect_uris);
        }
        2 => {
            let Ok(a) = serde_json::from_slice::<PatchApplication>(body) else { return };
            scopes(&a.allowed_scopes);
            uris(&a.redirect_uris);
        }
        3 => {
            let Ok(u) = serde_json::from_slice::<CreateUser>(body) else { return };
            let _ = latchkey_identities::Username::parse(&u.username);
            if let Some(e) = &u.email {
                if latchkey_identities::parse_email(e).is_ok() {
                    assert!(e.len() <= 254 && e.contains('@'));
                }
            }
            if let Some(p) = &u.password {
                let _ = latchkey_identities::check_password(p);
            }
        }
        _ => {
            let Ok(p) = serde_json::from_slice::<PatchOAuth2Provider>(body) else { return };
            for o in p.cors_origins.iter().flatten() {
                let _ = latchkey_oauth2::Origin::parse(o);
            }
            if let Some(alg) = &p.signing_alg {
                let _ = alg.parse::<latchkey_oauth2::SigningAlg>();
            }
        }
    }
});
