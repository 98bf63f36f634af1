//! Identities of a realm: application owners, resource owners and administrators.

use latchkey_core::secret::SecretHash;
use latchkey_core::time::UnixTime;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(pub i32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("username must be 1 to 128 characters of letters, digits and . _ @ + -")]
    InvalidUsername,
    #[error("password must be 8 to 1024 characters")]
    InvalidPassword,
    #[error("email must look like name@domain and be at most 254 characters")]
    InvalidEmail,
    #[error("names must be at most 255 characters without control characters")]
    InvalidName,
}

/// A username, unique within its realm.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        let ok = (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._@+-".contains(&b));
        if ok { Ok(Username(s.to_owned())) } else { Err(IdentityError::InvalidUsername) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a new password's length; the password itself is only ever hashed.
pub fn check_password(p: &str) -> Result<(), IdentityError> {
    if (8..=1024).contains(&p.chars().count()) { Ok(()) } else { Err(IdentityError::InvalidPassword) }
}

pub fn parse_email(s: &str) -> Result<String, IdentityError> {
    let valid = s.len() <= 254
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(s.split_once('@'), Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
    if valid { Ok(s.to_owned()) } else { Err(IdentityError::InvalidEmail) }
}

pub fn parse_person_name(s: &str) -> Result<String, IdentityError> {
    if s.chars().count() > 255 || s.chars().any(char::is_control) {
        return Err(IdentityError::InvalidName);
    }
    Ok(s.to_owned())
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub password_hash: Option<SecretHash>,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub enabled: bool,
    pub is_admin: bool,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// A user to be created.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub password_hash: Option<SecretHash>,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub enabled: bool,
    pub is_admin: bool,
}

/// What a caller may change on a user; `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub password_hash: Option<SecretHash>,
    pub email: Option<Option<String>>,
    pub given_name: Option<Option<String>>,
    pub family_name: Option<Option<String>>,
    pub enabled: Option<bool>,
}

impl UserPatch {
    pub fn apply(self, user: &mut User) {
        if let Some(h) = self.password_hash {
            user.password_hash = Some(h);
        }
        if let Some(e) = self.email {
            user.email = e;
        }
        if let Some(g) = self.given_name {
            user.given_name = g;
        }
        if let Some(f) = self.family_name {
            user.family_name = f;
        }
        if let Some(e) = self.enabled {
            user.enabled = e;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["alice", "a.b_c-d+e@x", "A1"] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "al ice", "al/ice", "ä", &"a".repeat(129), "a'b", "a;b"] {
            assert_eq!(Username::parse(bad), Err(IdentityError::InvalidUsername), "{bad}");
        }
    }

    #[test]
    fn emails_and_passwords() {
        assert!(parse_email("a@b.c").is_ok());
        for bad in ["", "a", "@b", "a@", "a b@c", "a@b@c"] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
        assert!(check_password("1234567").is_err());
        assert!(check_password("12345678").is_ok());
    }
}
