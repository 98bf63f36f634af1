//! `latchkey realm export` and `latchkey realm import`: a realm's configuration as a JSON or
//! YAML document, and its idempotent, all-or-nothing application to a database.
//!
//! The document holds the realm, its provider settings, its applications with their owners and
//! (optionally) secret hashes, and (optionally) its identities. Signing keys are never in it:
//! they are sealed under this installation's master key, so an import that creates a realm
//! generates a fresh key. Everything in a file is parsed into the domain types before anything
//! is written; nothing that is in the realm but not in the file is deleted.

use anyhow::{Context, bail};
use latchkey_applications::{
    Application, ApplicationSettings, ApplicationType, ClientId, RedirectUri, SignInMethod, TokenEndpointAuthMethod,
};
use latchkey_core::secret::{SecretHash, generate_secret};
use latchkey_core::time::now;
use latchkey_core::{FieldError, GrantType, ScopeSet};
use latchkey_identities::{User, Username, parse_email, parse_person_name};
use latchkey_oauth2::{MasterKey, NewSigningKey, Origin, ProviderSettings, RateLimits, SigningAlg};
use latchkey_realms::{RealmName, parse_display_name};
use latchkey_storage::{ImportApplication, ImportUser, RealmImport, Store};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// The `format` of every document; an import refuses any other.
pub const FORMAT: &str = "latchkey-realm/1";

/// A realm's configuration as exported. Field order is the output order; lists are sorted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealmDocument {
    pub format: String,
    pub realm: RealmDoc,
    pub provider: ProviderDoc,
    #[serde(default)]
    pub applications: Vec<ApplicationDoc>,
    /// Absent: the import leaves identities alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identities: Option<Vec<IdentityDoc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealmDoc {
    pub name: String,
    pub display_name: String,
    pub enabled: bool,
}

/// The provider settings. [`ProviderDoc::from_settings`] and [`ProviderDoc::parse`] destructure
/// [`ProviderSettings`] completely: a field added there does not compile until it is carried here.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderDoc {
    pub grant_types: Vec<String>,
    pub access_token_lifetime: i64,
    pub default_scopes: Vec<String>,
    pub signing_alg: String,
    pub rate_limits: RateLimitsDoc,
    pub cors_origins: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsDoc {
    pub per_client: u32,
    pub per_address: u32,
    pub failed_auth: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationDoc {
    pub client_id: String,
    pub client_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub sign_in_method: String,
    pub application_type: String,
    pub grant_types: Vec<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub allowed_scopes: Vec<String>,
    #[serde(default)]
    pub default_scopes: Vec<String>,
    pub token_endpoint_auth_method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_lifetime: Option<i64>,
    pub enabled: bool,
    /// Usernames of the owners: identities of the file or of the realm.
    #[serde(default)]
    pub owners: Vec<String>,
    /// argon2id PHC string; absent with `--secrets none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityDoc {
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    pub enabled: bool,
    /// argon2id PHC string; absent with `--secrets none` or for an identity without password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Yaml,
}

impl Format {
    /// YAML for `.yaml`/`.yml` files, JSON otherwise.
    pub fn of_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Format::Yaml,
            _ => Format::Json,
        }
    }

    /// The format of a file to import: by its extension (`.json`, `.yaml`, `.yml`), else (say
    /// `/dev/stdin`) JSON when the text starts with `{`, YAML otherwise.
    pub fn detect(path: &std::path::Path, text: &str) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Format::Json,
            Some("yaml" | "yml") => Format::Yaml,
            _ if text.trim_start().starts_with('{') => Format::Json,
            _ => Format::Yaml,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Secrets {
    /// Client secrets and passwords as their argon2id hashes.
    Hashes,
    /// No secret material at all.
    None,
}

impl ProviderDoc {
    pub fn from_settings(p: &ProviderSettings) -> ProviderDoc {
        let ProviderSettings {
            grant_types,
            access_token_lifetime,
            default_scopes,
            signing_alg,
            rate_limits,
            cors_origins,
        } = p;
        let RateLimits { per_client, per_address, failed_auth } = *rate_limits;
        ProviderDoc {
            grant_types: grant_types.iter().map(|g| g.as_str().to_owned()).collect(),
            access_token_lifetime: *access_token_lifetime,
            default_scopes: default_scopes.to_vec(),
            signing_alg: signing_alg.as_str().to_owned(),
            rate_limits: RateLimitsDoc { per_client, per_address, failed_auth },
            cors_origins: cors_origins.iter().map(|o| o.as_str().to_owned()).collect(),
        }
    }

    /// Parses into settings and checks them; errors name the field below `provider`.
    pub fn parse(&self) -> Result<ProviderSettings, FieldError> {
        let ProviderDoc { grant_types, access_token_lifetime, default_scopes, signing_alg, rate_limits, cors_origins } =
            self;
        let mut origins = indexed("cors_origins", cors_origins, Origin::parse)?;
        origins.sort();
        origins.dedup();
        let p = ProviderSettings {
            grant_types: grants("grant_types", grant_types)?,
            access_token_lifetime: *access_token_lifetime,
            default_scopes: scopes("default_scopes", default_scopes)?,
            signing_alg: signing_alg.parse::<SigningAlg>().map_err(|m| FieldError::new("signing_alg", m))?,
            rate_limits: RateLimits {
                per_client: rate_limits.per_client,
                per_address: rate_limits.per_address,
                failed_auth: rate_limits.failed_auth,
            },
            cors_origins: origins,
        };
        p.validate()?;
        Ok(p)
    }
}

/// Parses each value, naming `field[i]` at the first that fails.
fn indexed<T>(field: &str, values: &[String], parse: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, FieldError> {
    values.iter().enumerate().map(|(i, v)| parse(v).map_err(|m| FieldError::new(format!("{field}[{i}]"), m))).collect()
}

fn grants(field: &str, values: &[String]) -> Result<Vec<GrantType>, FieldError> {
    let mut g = indexed(field, values, |s| s.parse::<GrantType>().map_err(|e| e.to_string()))?;
    g.dedup();
    Ok(g)
}

fn scopes(field: &str, values: &[String]) -> Result<ScopeSet, FieldError> {
    ScopeSet::from_tokens(values.iter().map(String::as_str)).map_err(|e| FieldError::new(field, e))
}

fn application_doc(app: &Application, owners: Vec<String>, secrets: Secrets) -> ApplicationDoc {
    let s = &app.settings;
    ApplicationDoc {
        client_id: app.client_id.to_string(),
        client_name: s.client_name.clone(),
        description: s.description.clone(),
        sign_in_method: s.sign_in_method.as_str().to_owned(),
        application_type: s.application_type.as_str().to_owned(),
        grant_types: s.grant_types.iter().map(|g| g.as_str().to_owned()).collect(),
        redirect_uris: s.redirect_uris.iter().map(|u| u.as_str().to_owned()).collect(),
        allowed_scopes: s.allowed_scopes.to_vec(),
        default_scopes: s.default_scopes.to_vec(),
        token_endpoint_auth_method: s.token_endpoint_auth_method.as_str().to_owned(),
        access_token_lifetime: s.access_token_lifetime,
        enabled: s.enabled,
        owners,
        secret_hash: match secrets {
            Secrets::Hashes => app.secret_hash.as_ref().map(|h| h.as_phc().to_owned()),
            Secrets::None => None,
        },
    }
}

fn identity_doc(u: &User, secrets: Secrets) -> IdentityDoc {
    IdentityDoc {
        username: u.username.to_string(),
        email: u.email.clone(),
        given_name: u.given_name.clone(),
        family_name: u.family_name.clone(),
        enabled: u.enabled,
        password_hash: match secrets {
            Secrets::Hashes => u.password_hash.as_ref().map(|h| h.as_phc().to_owned()),
            Secrets::None => None,
        },
    }
}

/// Reads realm `name` from the store. No timestamps and no ids: the output depends only on
/// the configuration, so export → import elsewhere → export gives the same bytes.
pub async fn export(store: &Store, name: &str, secrets: Secrets, identities: bool) -> anyhow::Result<RealmDocument> {
    let realm = store.find_realm(name).await?.with_context(|| format!("no realm named `{name}`"))?;
    let provider = store.provider(realm.id).await?;
    let applications = store
        .realm_applications(realm.id)
        .await?
        .into_iter()
        .map(|(app, owners)| application_doc(&app, owners, secrets))
        .collect();
    let identities = if identities {
        Some(store.realm_users(realm.id).await?.iter().map(|u| identity_doc(u, secrets)).collect())
    } else {
        None
    };
    Ok(RealmDocument {
        format: FORMAT.to_owned(),
        realm: RealmDoc { name: realm.name.to_string(), display_name: realm.display_name, enabled: realm.enabled },
        provider: ProviderDoc::from_settings(&provider),
        applications,
        identities,
    })
}

/// The document as text, ending in a newline.
pub fn render(doc: &RealmDocument, format: Format) -> anyhow::Result<String> {
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(doc)? + "\n",
        Format::Yaml => serde_norway::to_string(doc)?,
    })
}

/// Parses a document; a type error names the path of the field (`applications[1].enabled`).
pub fn parse(text: &str, format: Format) -> anyhow::Result<RealmDocument> {
    let doc: RealmDocument = match format {
        Format::Json => {
            let de = &mut serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|e| anyhow::anyhow!("{}: {}", e.path(), e.inner()))?
        }
        Format::Yaml => serde_path_to_error::deserialize(serde_norway::Deserializer::from_str(text))
            .map_err(|e| anyhow::anyhow!("{}: {}", e.path(), e.inner()))?,
    };
    if doc.format != FORMAT {
        bail!("format: expected `{FORMAT}`, found `{}`", doc.format);
    }
    Ok(doc)
}

/// A document parsed into the domain types: what an import would make the realm.
struct Desired {
    name: RealmName,
    display_name: String,
    enabled: bool,
    provider: ProviderSettings,
    identities: Option<Vec<ImportUser>>,
    applications: Vec<ImportApplication>,
}

fn at(prefix: String) -> impl FnOnce(FieldError) -> FieldError {
    move |e| FieldError::new(format!("{prefix}.{}", e.field), e.message)
}

fn enum_field<T: std::str::FromStr<Err = String>>(field: &str, v: &str) -> Result<T, FieldError> {
    v.parse().map_err(|m| FieldError::new(field, format!("`{v}`: {m}")))
}

fn phc(field: &str, v: &Option<String>) -> Result<Option<SecretHash>, FieldError> {
    v.clone()
        .map(SecretHash::from_phc)
        .transpose()
        .map_err(|_| FieldError::new(field, "is not an argon2 PHC string ($argon2id$…)"))
}

fn optional(
    field: &str,
    v: &Option<String>,
    parse: impl Fn(&str) -> Result<String, String>,
) -> Result<Option<String>, FieldError> {
    v.as_deref().map(|s| parse(s).map_err(|m| FieldError::new(field, m))).transpose()
}

fn parse_identity(d: &IdentityDoc) -> Result<ImportUser, FieldError> {
    Ok(ImportUser {
        username: Username::parse(&d.username).map_err(|e| FieldError::new("username", e))?,
        email: optional("email", &d.email, |s| parse_email(s).map_err(|e| e.to_string()))?,
        given_name: optional("given_name", &d.given_name, |s| parse_person_name(s).map_err(|e| e.to_string()))?,
        family_name: optional("family_name", &d.family_name, |s| parse_person_name(s).map_err(|e| e.to_string()))?,
        enabled: d.enabled,
        password_hash: phc("password_hash", &d.password_hash)?,
    })
}

fn parse_application(d: &ApplicationDoc) -> Result<ImportApplication, FieldError> {
    let settings = ApplicationSettings {
        client_name: d.client_name.clone(),
        description: d.description.clone(),
        sign_in_method: enum_field::<SignInMethod>("sign_in_method", &d.sign_in_method)?,
        application_type: enum_field::<ApplicationType>("application_type", &d.application_type)?,
        grant_types: grants("grant_types", &d.grant_types)?,
        redirect_uris: indexed("redirect_uris", &d.redirect_uris, |s| RedirectUri::parse(s).map_err(|e| e.message))?,
        allowed_scopes: scopes("allowed_scopes", &d.allowed_scopes)?,
        default_scopes: scopes("default_scopes", &d.default_scopes)?,
        token_endpoint_auth_method: enum_field::<TokenEndpointAuthMethod>(
            "token_endpoint_auth_method",
            &d.token_endpoint_auth_method,
        )?,
        access_token_lifetime: d.access_token_lifetime,
        enabled: d.enabled,
    };
    settings.validate()?;
    let secret_hash = phc("secret_hash", &d.secret_hash)?;
    if secret_hash.is_some() && !settings.application_type.is_confidential() {
        return Err(FieldError::new("secret_hash", "native and spa applications are public: they have no secret"));
    }
    let mut owners = indexed("owners", &d.owners, |s| Username::parse(s).map_err(|e| e.to_string()))?;
    owners.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    owners.dedup();
    Ok(ImportApplication { client_id: ClientId::parse(&d.client_id)?, settings, secret_hash, owners })
}

/// Parses the whole document; the error names the path of the first bad field.
fn validate(doc: &RealmDocument, existing_users: &BTreeSet<String>) -> Result<Desired, FieldError> {
    let name = RealmName::parse(&doc.realm.name).map_err(|e| FieldError::new("realm.name", e))?;
    let display_name =
        parse_display_name(&doc.realm.display_name).map_err(|e| FieldError::new("realm.display_name", e))?;
    if name.is_root() && !doc.realm.enabled {
        return Err(FieldError::new("realm.enabled", "the root realm cannot be disabled"));
    }
    let provider = doc.provider.parse().map_err(at("provider".into()))?;
    let mut usernames = existing_users.clone();
    let identities = match &doc.identities {
        None => None,
        Some(list) => {
            let mut seen = BTreeSet::new();
            let mut out = Vec::with_capacity(list.len());
            for (i, d) in list.iter().enumerate() {
                let u = parse_identity(d).map_err(at(format!("identities[{i}]")))?;
                if !seen.insert(u.username.to_string()) {
                    return Err(FieldError::new(format!("identities[{i}].username"), "appears twice in the file"));
                }
                usernames.insert(u.username.to_string());
                out.push(u);
            }
            Some(out)
        }
    };
    let mut seen = BTreeSet::new();
    let mut applications = Vec::with_capacity(doc.applications.len());
    for (i, d) in doc.applications.iter().enumerate() {
        let a = parse_application(d).map_err(at(format!("applications[{i}]")))?;
        if !seen.insert(a.client_id.to_string()) {
            return Err(FieldError::new(format!("applications[{i}].client_id"), "appears twice in the file"));
        }
        if let Some(j) = d.owners.iter().position(|o| !usernames.contains(o)) {
            return Err(FieldError::new(
                format!("applications[{i}].owners[{j}]"),
                format!("no identity `{}` in the file or in the realm", d.owners[j]),
            ));
        }
        applications.push(a);
    }
    Ok(Desired { name, display_name, enabled: doc.realm.enabled, provider, identities, applications })
}

/// What `import` did or, with `dry_run`, would do: one line per object, then a summary.
#[derive(Debug, Default)]
pub struct Report {
    pub lines: Vec<String>,
    pub changes: usize,
    /// Client secrets generated for new confidential applications imported without one,
    /// `(client_id, secret)`; shown once.
    pub generated_secrets: Vec<(String, SecretString)>,
}

/// `key old -> new; …` for the keys of two JSON objects that differ; hashes are never shown.
fn differences(old: &Value, new: &Value) -> Vec<String> {
    let (Value::Object(old), Value::Object(new)) = (old, new) else { return vec![] };
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut out = Vec::new();
    // Alphabetical order of the keys: stable, whatever the struct's field order.
    for k in keys {
        let (a, b) = (old.get(k).unwrap_or(&Value::Null), new.get(k).unwrap_or(&Value::Null));
        if a == b {
            continue;
        }
        if k.ends_with("_hash") {
            out.push(format!("{k} (changed)"));
        } else {
            out.push(format!("{k} {a} -> {b}"));
        }
    }
    out
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("documents serialize")
}

/// Applies `doc` to the store, or with `dry_run` only reports what it would change.
pub async fn import(
    store: &Store,
    master_key: &MasterKey,
    doc: &RealmDocument,
    dry_run: bool,
) -> anyhow::Result<Report> {
    let existing = store.find_realm(&doc.realm.name).await?;
    let (current_users, current_apps, current_provider) = match &existing {
        Some(r) => {
            (store.realm_users(r.id).await?, store.realm_applications(r.id).await?, Some(store.provider(r.id).await?))
        }
        None => (vec![], vec![], None),
    };
    let names: BTreeSet<String> = current_users.iter().map(|u| u.username.to_string()).collect();
    let desired =
        validate(doc, &names).map_err(|e| anyhow::anyhow!("{}: {} (nothing was written)", e.field, e.message))?;

    let mut report = Report::default();
    let realm_label = desired.name.to_string();
    let mut realm_change = None;
    let mut new_key = None;
    match &existing {
        None => {
            report.lines.push(format!(
                "+ realm {realm_label} (new: a fresh signing key is generated; keys are never exported)"
            ));
            realm_change = Some((desired.display_name.clone(), desired.enabled));
            report.changes += 1;
            if !dry_run {
                let alg = desired.provider.signing_alg;
                let master = master_key.clone();
                new_key = Some(
                    tokio::task::spawn_blocking(move || NewSigningKey::generate(alg, &master))
                        .await?
                        .context("generating the realm's signing key")?,
                );
            }
        }
        Some(r) => {
            let old = to_value(&RealmDoc {
                name: realm_label.clone(),
                display_name: r.display_name.clone(),
                enabled: r.enabled,
            });
            let new = to_value(&RealmDoc {
                name: realm_label.clone(),
                display_name: desired.display_name.clone(),
                enabled: desired.enabled,
            });
            let diff = differences(&old, &new);
            if diff.is_empty() {
                report.lines.push(format!("= realm {realm_label} (unchanged)"));
            } else {
                report.lines.push(format!("~ realm {realm_label}: {}", diff.join("; ")));
                realm_change = Some((desired.display_name.clone(), desired.enabled));
                report.changes += 1;
            }
        }
    }

    let mut provider_change = None;
    let mut rotate_to = None;
    match &current_provider {
        None => {
            report.lines.push("+ provider".into());
            provider_change = Some(desired.provider.clone());
        }
        Some(cur) => {
            let diff = differences(
                &to_value(&ProviderDoc::from_settings(cur)),
                &to_value(&ProviderDoc::from_settings(&desired.provider)),
            );
            if diff.is_empty() {
                report.lines.push("= provider (unchanged)".into());
            } else {
                let rotates = cur.signing_alg != desired.provider.signing_alg;
                report.lines.push(format!(
                    "~ provider: {}{}",
                    diff.join("; "),
                    if rotates { " (the realm rotates to a new signing key)" } else { "" }
                ));
                if rotates {
                    rotate_to = Some(desired.provider.signing_alg);
                }
                provider_change = Some(desired.provider.clone());
                report.changes += 1;
            }
        }
    }

    let mut users = Vec::new();
    if let Some(identities) = desired.identities {
        let in_file: BTreeSet<String> = identities.iter().map(|u| u.username.to_string()).collect();
        for u in identities {
            let label = u.username.to_string();
            let new_doc = IdentityDoc {
                username: label.clone(),
                email: u.email.clone(),
                given_name: u.given_name.clone(),
                family_name: u.family_name.clone(),
                enabled: u.enabled,
                password_hash: u.password_hash.as_ref().map(|h| h.as_phc().to_owned()),
            };
            match current_users.iter().find(|c| c.username == u.username) {
                None => {
                    let note = if u.password_hash.is_none() { " (without a password)" } else { "" };
                    report.lines.push(format!("+ identity {label}{note}"));
                    report.changes += 1;
                    users.push(u);
                }
                Some(c) => {
                    // No hash in the file keeps the stored one.
                    let secrets = if u.password_hash.is_some() { Secrets::Hashes } else { Secrets::None };
                    let diff = differences(&to_value(&identity_doc(c, secrets)), &to_value(&new_doc));
                    if diff.is_empty() {
                        report.lines.push(format!("= identity {label} (unchanged)"));
                    } else {
                        report.lines.push(format!("~ identity {label}: {}", diff.join("; ")));
                        report.changes += 1;
                        users.push(u);
                    }
                }
            }
        }
        for c in current_users.iter().filter(|c| !in_file.contains(c.username.as_str())) {
            report.lines.push(format!("! identity {} is in the realm, not in the file: kept", c.username));
        }
    }

    let mut applications = Vec::new();
    let in_file: BTreeSet<String> = desired.applications.iter().map(|a| a.client_id.to_string()).collect();
    for mut a in desired.applications {
        let label = a.client_id.to_string();
        let owners: Vec<String> = a.owners.iter().map(|o| o.to_string()).collect();
        match current_apps.iter().find(|(c, _)| c.client_id == a.client_id) {
            None => {
                let mut note = "";
                if a.secret_hash.is_none() && a.settings.application_type.is_confidential() {
                    note = " (a new client secret is generated and shown once)";
                    if !dry_run {
                        let secret = generate_secret();
                        let plain = secret.expose_secret().to_owned();
                        a.secret_hash = Some(tokio::task::spawn_blocking(move || SecretHash::create(&plain)).await?);
                        report.generated_secrets.push((label.clone(), secret));
                    }
                }
                report.lines.push(format!("+ application {label}{note}"));
                report.changes += 1;
                applications.push(a);
            }
            Some((c, current_owners)) => {
                let secrets = if a.secret_hash.is_some() { Secrets::Hashes } else { Secrets::None };
                let probe = Application {
                    id: c.id,
                    client_id: a.client_id.clone(),
                    secret_hash: a.secret_hash.clone(),
                    settings: a.settings.clone(),
                    created_at: 0,
                    updated_at: 0,
                };
                let diff = differences(
                    &to_value(&application_doc(c, current_owners.clone(), secrets)),
                    &to_value(&application_doc(&probe, owners, secrets)),
                );
                if diff.is_empty() {
                    report.lines.push(format!("= application {label} (unchanged)"));
                } else {
                    report.lines.push(format!("~ application {label}: {}", diff.join("; ")));
                    report.changes += 1;
                    applications.push(a);
                }
            }
        }
    }
    for (c, _) in current_apps.iter().filter(|(c, _)| !in_file.contains(c.client_id.as_str())) {
        report.lines.push(format!("! application {} is in the realm, not in the file: kept", c.client_id));
    }

    let summary = if report.changes == 0 { "no changes".to_owned() } else { format!("{} change(s)", report.changes) };
    if dry_run {
        report.lines.push(format!("dry run: {summary}; nothing was written"));
        return Ok(report);
    }
    if report.changes > 0 {
        let realm_id = store
            .apply_realm_import(RealmImport {
                name: desired.name,
                new_key,
                realm: realm_change,
                provider: provider_change,
                users,
                applications,
            })
            .await
            .context("applying the import (nothing was written)")?;
        if let Some(alg) = rotate_to {
            let master = master_key.clone();
            let key = tokio::task::spawn_blocking(move || NewSigningKey::generate(alg, &master))
                .await?
                .context("generating the realm's signing key")?;
            let longest = store.max_access_token_lifetime(realm_id).await?;
            store.rotate_key(realm_id, key, now() + longest + 60).await?;
        }
    }
    report.lines.push(format!("imported: {summary}; nothing was deleted"));
    Ok(report)
}

/// `latchkey realm …`
#[derive(Debug, clap::Subcommand)]
pub enum RealmCommand {
    /// Write a realm's configuration (realm, provider settings, applications with owners and
    /// secret hashes, optionally identities) as JSON or YAML. Signing keys are never exported.
    Export {
        /// The realm's name.
        name: String,
        /// Output format. [default: yaml for a --output ending in .yaml/.yml, else json]
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// `hashes`: client secrets and passwords as argon2id hashes; `none`: no secret material.
        #[arg(long, value_enum, default_value = "hashes")]
        secrets: Secrets,
        /// Include the realm's identities (username, email, names, enabled, password hash).
        #[arg(long)]
        identities: bool,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Apply exported files: create the realm if missing, then create or update its provider,
    /// identities and applications. Idempotent and all or nothing per file; deletes nothing.
    Import {
        /// The files: JSON or YAML, each by its extension or else its content (`/dev/stdin`
        /// works). Several files are applied in order, each in its own transaction; the first
        /// that fails stops the command, and the files before it stay applied.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        /// Print what would change and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Runs a `latchkey realm` command against the configured database (and master key).
pub async fn run(command: RealmCommand, settings: &crate::Settings) -> anyhow::Result<()> {
    let store = Store::connect(settings.database_url()).await.context("connecting to the database")?;
    if !store.pending_migrations().await?.is_empty() {
        bail!("the database is not migrated: run `latchkey migrate` (or `latchkey serve`) first");
    }
    match command {
        RealmCommand::Export { name, format, secrets, identities, output } => {
            let format = format.unwrap_or_else(|| output.as_deref().map_or(Format::Json, Format::of_path));
            let doc = export(&store, &name, secrets, identities).await?;
            let text = render(&doc, format)?;
            match output {
                Some(path) => {
                    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
                    eprintln!("exported realm `{name}` to {}", path.display());
                }
                None => print!("{text}"),
            }
            eprintln!(
                "note: signing keys are not exported (they are sealed under this installation's master key); \
                 an import that creates the realm generates a fresh one"
            );
        }
        RealmCommand::Import { files, dry_run } => {
            let several = files.len() > 1;
            for (done, file) in files.iter().enumerate() {
                if several {
                    println!("== {}", file.display());
                }
                let imported = import_file(&store, &settings.master_key, file, dry_run).await;
                if several {
                    let before = if dry_run { "checked" } else { "applied" };
                    imported.with_context(|| {
                        format!("{}: stopped here; the {done} file(s) before it were {before}", file.display())
                    })?;
                } else {
                    imported?;
                }
            }
        }
    }
    store.close().await?;
    Ok(())
}

/// Imports one file (one transaction) and prints its report.
async fn import_file(
    store: &Store,
    master_key: &MasterKey,
    file: &std::path::Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let doc = parse(&text, Format::detect(file, &text))
        .with_context(|| format!("{} is not a realm export", file.display()))?;
    let report = import(store, master_key, &doc, dry_run).await?;
    for line in &report.lines {
        println!("{line}");
    }
    for (client_id, secret) in &report.generated_secrets {
        // The one time this secret is ever shown: the file held no hash for a new client.
        println!("client_secret of application {client_id} (shown only this once): {}", secret.expose_secret());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(display_name: &str) -> RealmDocument {
        RealmDocument {
            format: FORMAT.into(),
            realm: RealmDoc { name: "r".into(), display_name: display_name.into(), enabled: true },
            provider: ProviderDoc::from_settings(&ProviderSettings::new_realm()),
            applications: vec![],
            identities: None,
        }
    }

    #[test]
    fn yaml_and_json_keep_every_string_a_string() {
        for s in [
            "null",
            "~",
            "true",
            "yes",
            "no",
            "1.5",
            "0123",
            "",
            "#x",
            "a: b",
            "- x",
            "'q'",
            "\"d\"",
            "é ü",
            "$argon2id$v=19",
        ] {
            for format in [Format::Json, Format::Yaml] {
                let text = render(&doc(s), format).unwrap();
                let back = parse(&text, format).unwrap_or_else(|e| panic!("{format:?} {s:?}: {e}\n{text}"));
                assert_eq!(back.realm.display_name, s, "{format:?}:\n{text}");
                assert_eq!(render(&back, format).unwrap(), text, "stable bytes");
            }
        }
    }

    #[test]
    fn provider_doc_round_trips_and_names_bad_fields() {
        let p = ProviderSettings::new_realm();
        assert_eq!(ProviderDoc::from_settings(&p).parse().unwrap(), p);
        let mut d = ProviderDoc::from_settings(&p);
        d.cors_origins = vec!["https://b.example".into(), "https://A.example:443/".into(), "https://b.example".into()];
        assert_eq!(
            d.parse().unwrap().cors_origins.iter().map(Origin::as_str).collect::<Vec<_>>(),
            ["https://a.example", "https://b.example"]
        );
        for (change, field) in [
            (
                Box::new(|d: &mut ProviderDoc| d.grant_types = vec!["client_credentials".into(), "magic".into()])
                    as Box<dyn Fn(&mut ProviderDoc)>,
                "grant_types[1]",
            ),
            (Box::new(|d| d.cors_origins = vec!["nope".into()]), "cors_origins[0]"),
            (Box::new(|d| d.signing_alg = "HS256".into()), "signing_alg"),
            (Box::new(|d| d.default_scopes = vec!["a b".into()]), "default_scopes"),
            (Box::new(|d| d.rate_limits.failed_auth = 0), "rate_limits.failed_auth"),
        ] {
            let mut d = ProviderDoc::from_settings(&p);
            change(&mut d);
            assert_eq!(d.parse().unwrap_err().field, field);
        }
    }

    #[test]
    fn differences_name_changed_keys_and_never_show_hashes() {
        let old = serde_json::json!({"a": 1, "b": ["x"], "secret_hash": "$argon2id$old", "gone": true});
        let new = serde_json::json!({"a": 1, "b": ["x", "y"], "secret_hash": "$argon2id$new"});
        assert_eq!(differences(&old, &new), [r#"b ["x"] -> ["x","y"]"#, "gone true -> null", "secret_hash (changed)"]);
        assert!(differences(&old, &old).is_empty());
    }

    #[test]
    fn import_format_by_extension_then_content() {
        use std::path::Path;
        assert_eq!(Format::detect(Path::new("a.json"), "x: 1"), Format::Json);
        assert_eq!(Format::detect(Path::new("a.yml"), "{}"), Format::Yaml);
        assert_eq!(Format::detect(Path::new("/dev/stdin"), "  {\"format\": 1}"), Format::Json);
        assert_eq!(Format::detect(Path::new("/dev/stdin"), "format: x"), Format::Yaml);
    }
}
