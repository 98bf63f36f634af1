//! Realms: Latchkey's tenants. Every application, identity, key and token belongs to one.

use latchkey_core::time::UnixTime;
use std::fmt;

/// The realm that always exists, cannot be deleted, and issues admin tokens.
pub const ROOT_REALM: &str = "root";

/// Storage's identifier of a realm. Every query for tenant data takes one, so reading another
/// tenant's rows needs a value the caller does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RealmId(pub i32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RealmError {
    #[error("realm name must be 1 to 63 characters of lowercase letters, digits and hyphens")]
    InvalidName,
    #[error("display name must be at most 255 characters without control characters")]
    InvalidDisplayName,
    #[error("the root realm cannot be deleted")]
    RootUndeletable,
    #[error("the root realm cannot be disabled")]
    RootUndisableable,
}

/// A realm name: lowercase letters, digits and hyphens, 1 to 63 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RealmName(String);

impl RealmName {
    pub fn parse(s: &str) -> Result<Self, RealmError> {
        let ok =
            (1..=63).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok { Ok(RealmName(s.to_owned())) } else { Err(RealmError::InvalidName) }
    }

    pub fn root() -> Self {
        RealmName(ROOT_REALM.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0 == ROOT_REALM
    }
}

impl fmt::Display for RealmName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a human-readable label: at most 255 characters, no control characters.
pub fn parse_display_name(s: &str) -> Result<String, RealmError> {
    if s.chars().count() > 255 || s.chars().any(char::is_control) {
        return Err(RealmError::InvalidDisplayName);
    }
    Ok(s.to_owned())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Realm {
    pub id: RealmId,
    pub name: RealmName,
    pub display_name: String,
    pub enabled: bool,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

impl Realm {
    /// Whether the realm may be deleted (the root realm may not).
    pub fn check_deletable(&self) -> Result<(), RealmError> {
        if self.name.is_root() { Err(RealmError::RootUndeletable) } else { Ok(()) }
    }
}

/// What a caller may change on a realm.
#[derive(Debug, Clone, Default)]
pub struct RealmPatch {
    pub display_name: Option<String>,
    pub enabled: Option<bool>,
}

impl RealmPatch {
    /// Applies the patch, refusing to disable the root realm (that would lock operators out).
    pub fn apply(self, realm: &mut Realm) -> Result<(), RealmError> {
        if realm.name.is_root() && self.enabled == Some(false) {
            return Err(RealmError::RootUndisableable);
        }
        if let Some(d) = self.display_name {
            realm.display_name = d;
        }
        if let Some(e) = self.enabled {
            realm.enabled = e;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_names() {
        for ok in ["root", "a", "alpha-2", "0", &"a".repeat(63)] {
            assert!(RealmName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Alpha", "al pha", "al_pha", "ä", &"a".repeat(64), "a/b", "a.b"] {
            assert_eq!(RealmName::parse(bad), Err(RealmError::InvalidName), "{bad}");
        }
    }

    #[test]
    fn root_is_protected() {
        let mut root = Realm {
            id: RealmId(1),
            name: RealmName::root(),
            display_name: String::new(),
            enabled: true,
            created_at: 0,
            updated_at: 0,
        };
        assert_eq!(root.check_deletable(), Err(RealmError::RootUndeletable));
        let patch = RealmPatch { enabled: Some(false), ..Default::default() };
        assert_eq!(patch.apply(&mut root), Err(RealmError::RootUndisableable));
        assert!(root.enabled);
    }
}
