//! OAuth 2.0 scopes (RFC 6749 §3.3): `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.

use std::fmt;

/// The longest scope token we accept; longer ones are almost surely abuse.
const MAX_SCOPE_LEN: usize = 256;
/// The most scopes one set may hold.
const MAX_SCOPES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("scope must not be empty")]
    Empty,
    #[error("scope `{0}` contains a character RFC 6749 §3.3 does not allow")]
    BadCharacter(String),
    #[error("a scope may be at most {MAX_SCOPE_LEN} characters")]
    TooLong,
    #[error("at most {MAX_SCOPES} scopes are allowed")]
    TooMany,
    #[error("scopes must be separated by single spaces")]
    BadSeparator,
}

/// One scope token.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(String);

impl Scope {
    pub fn parse(s: &str) -> Result<Self, ScopeError> {
        if s.is_empty() {
            return Err(ScopeError::Empty);
        }
        if s.len() > MAX_SCOPE_LEN {
            return Err(ScopeError::TooLong);
        }
        let allowed = |b: u8| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b);
        if !s.bytes().all(allowed) {
            return Err(ScopeError::BadCharacter(s.to_owned()));
        }
        Ok(Scope(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A set of scopes without duplicates, in the order first given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    pub fn new() -> Self {
        ScopeSet(Vec::new())
    }

    /// Parses the wire form: scope tokens separated by single spaces (RFC 6749 §3.3).
    pub fn parse_delimited(s: &str) -> Result<Self, ScopeError> {
        if s.is_empty() {
            return Err(ScopeError::Empty);
        }
        if s.starts_with(' ') || s.ends_with(' ') || s.contains("  ") {
            return Err(ScopeError::BadSeparator);
        }
        Self::from_tokens(s.split(' '))
    }

    /// Builds a set from separate tokens, dropping repeats.
    pub fn from_tokens<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Result<Self, ScopeError> {
        let mut set = ScopeSet::new();
        for t in tokens {
            set.insert(Scope::parse(t)?);
            if set.0.len() > MAX_SCOPES {
                return Err(ScopeError::TooMany);
            }
        }
        Ok(set)
    }

    pub fn insert(&mut self, scope: Scope) {
        if !self.0.contains(&scope) {
            self.0.push(scope);
        }
    }

    pub fn contains(&self, scope: &Scope) -> bool {
        self.0.contains(scope)
    }

    /// The scopes of `self` that `other` lacks.
    pub fn missing_from<'a>(&'a self, other: &'a ScopeSet) -> impl Iterator<Item = &'a Scope> {
        self.0.iter().filter(|s| !other.contains(s))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.0.iter().map(|s| s.0.clone()).collect()
    }
}

/// The wire form: tokens joined by single spaces.
impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(s.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expected: Result<&str, ScopeError>) {
        let got = ScopeSet::parse_delimited(input).map(|s| s.to_string());
        assert_eq!(got, expected.map(str::to_owned), "input {input:?}");
    }

    #[test]
    fn delimited_scopes() {
        check("write", Ok("write"));
        check("read write", Ok("read write"));
        check("read write read", Ok("read write"));
        check("a:b/c!#[]~", Ok("a:b/c!#[]~"));
        check("", Err(ScopeError::Empty));
        check(" write", Err(ScopeError::BadSeparator));
        check("write ", Err(ScopeError::BadSeparator));
        check("read  write", Err(ScopeError::BadSeparator));
        check("re\"ad", Err(ScopeError::BadCharacter("re\"ad".into())));
        check("re\\ad", Err(ScopeError::BadCharacter("re\\ad".into())));
        check("r\u{e9}ad", Err(ScopeError::BadCharacter("r\u{e9}ad".into())));
        check("read\twrite", Err(ScopeError::BadCharacter("read\twrite".into())));
        check(&"a".repeat(257), Err(ScopeError::TooLong));
        let many: Vec<String> = (0..101).map(|i| format!("s{i}")).collect();
        check(&many.join(" "), Err(ScopeError::TooMany));
    }

    #[test]
    fn subsets() {
        let all = ScopeSet::parse_delimited("read write admin").unwrap();
        let some = ScopeSet::parse_delimited("write read").unwrap();
        assert_eq!(some.missing_from(&all).count(), 0);
        assert_eq!(all.missing_from(&some).map(|s| s.as_str()).collect::<Vec<_>>(), ["admin"]);
    }
}
