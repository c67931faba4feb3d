//! Startup validation of `ENCRYPTION_KEY`: three tiers, each failure with a code, a message and the
//! command that fixes it, and one analytics event per outcome on an injectable sink.
//!
//! | tier | check | code |
//! | --- | --- | --- |
//! | 1 | present and non-empty | `ENCRYPTION_KEY_ABSENT` |
//! | 2 | at least 32 bytes (UTF-8 length of the raw string) | `ENCRYPTION_KEY_WEAK` |
//! | 3 | production only: not a public placeholder, not degenerate | `ENCRYPTION_KEY_BLOCKLISTED` |
//!
//! No key material appears in any error, event or `Debug` output: events carry the key's byte
//! length at most. The one free-form field, the environment name, is withheld (reported as
//! `"unknown"`, validated as production) when it would be read from a variable whose name says it
//! holds a secret ([`names_a_secret`]) or when it is the key itself.

use std::ffi::OsString;
use std::fmt;
use std::io::Write as _;

use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use time::macros::format_description;
use zeroize::Zeroizing;

use crate::key::{ENCRYPTION_KEY_VAR, EncryptionKey, lossy_env_text, normalise_spelling};

/// Minimum key length in bytes.
pub const MIN_KEY_LEN: usize = 32;
/// The variable the environment name is read from by default (shared with Node services).
pub const DEFAULT_ENVIRONMENT_VAR: &str = "NODE_ENV";

/// Keys published in the reference's repositories, docs and tests, and the example key of
/// sealkit's own documentation: blocked in production.
pub const BLOCKLIST: &[&str] = &[
    "dev-encryption-key-minimum-32-chars!!",
    "test-encryption-key-exactly-32b!",
    "a-different-key-that-is-32bytes!",
    "test-encryption-key-for-vitest-32ch",
    "GK7s39Oa7613mZvjSvUZuBdZvo3wfTOig2ms/KRLtcg=",
    "identical-key-value-for-testing-99",
    // The crate documentation's example key (`lib.rs`): whoever copies an example copies its key.
    "q4A8pB0hYxV3n1Jd6mZ0cWl2tR9sE5uK7oG+fH/iLwM=",
];

/// A key with fewer distinct bytes than this is not random. A random 32-byte key has about 28 in
/// base64 and about 16 in hex, and even a random 32-digit decimal key misses this bound only
/// about once in 10^7 (at 10 it would have failed one such key in three).
const MIN_DISTINCT_BYTES: usize = 6;

/// Words that secrets' variable names are made of (`ENCRYPTION_KEY`, `DATABASE_URL`, `API_TOKEN`,
/// `db_password`, `DB_PASS`, `MYSQL_PWD`, `STRIPE_APIKEY`). A connection URL or DSN counts: it
/// usually carries a password.
const SECRET_WORDS: [&str; 17] = [
    "KEY",
    "KEYS",
    "APIKEY",
    "SECRET",
    "TOKEN",
    "PASSWORD",
    "PASSWD",
    "PASS",
    "PWD",
    "PASSPHRASE",
    "CREDENTIAL",
    "CREDENTIALS",
    "AUTH",
    "PRIVATE",
    "URL",
    "URI",
    "DSN",
];

const SUGGEST_GENERATE: &str = "Generate a key: openssl rand -base64 32 (or: sealkit keygen)";
const SUGGEST_UNIQUE: &str = "Generate a unique key: openssl rand -base64 32 (or: sealkit keygen)";

/// The stable codes of startup failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartupCode {
    /// Tier 1: the key is unset or empty.
    Absent,
    /// Tier 2: the key is shorter than 32 bytes.
    Weak,
    /// Tier 3: in production, the key is a public placeholder or obviously not random.
    Blocklisted,
}

impl StartupCode {
    /// `ENCRYPTION_KEY_ABSENT`, `ENCRYPTION_KEY_WEAK` or `ENCRYPTION_KEY_BLOCKLISTED`.
    pub fn as_str(self) -> &'static str {
        match self {
            StartupCode::Absent => "ENCRYPTION_KEY_ABSENT",
            StartupCode::Weak => "ENCRYPTION_KEY_WEAK",
            StartupCode::Blocklisted => "ENCRYPTION_KEY_BLOCKLISTED",
        }
    }

    /// The tier (1, 2 or 3).
    pub fn tier(self) -> u8 {
        match self {
            StartupCode::Absent => 1,
            StartupCode::Weak => 2,
            StartupCode::Blocklisted => 3,
        }
    }

    /// The analytics `reason`: `key_missing`, `key_too_short` or `key_blocklisted`.
    pub fn reason(self) -> &'static str {
        match self {
            StartupCode::Absent => "key_missing",
            StartupCode::Weak => "key_too_short",
            StartupCode::Blocklisted => "key_blocklisted",
        }
    }
}

/// A failed startup validation: `{code, message, suggestion}`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({}) {suggestion}", code.as_str())]
pub struct StartupError {
    /// What failed.
    pub code: StartupCode,
    /// For the operator; never contains key material.
    pub message: String,
    /// The command that fixes it.
    pub suggestion: &'static str,
}

/// A passed startup validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartupSuccess {
    /// The environment name used (`"unknown"` when unset).
    pub environment: String,
    /// Whether the production-only checks ran.
    pub production: bool,
    /// Byte length of the key string.
    pub key_length_bytes: usize,
}

/// One analytics event, serialised as a single JSON line.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnalyticsEvent {
    /// `sdk.startup.succeeded`.
    StartupSucceeded {
        /// Environment name.
        env: String,
        /// Key length in bytes (never the key).
        key_length_bytes: usize,
        /// Emission time.
        timestamp: OffsetDateTime,
    },
    /// `sdk.startup.failed`.
    StartupFailed {
        /// Environment name.
        env: String,
        /// Which tier failed.
        code: StartupCode,
        /// Emission time.
        timestamp: OffsetDateTime,
    },
    /// `platform.key.weak`, alongside a tier-3 failure only.
    KeyWeak {
        /// Environment name.
        env: String,
        /// Emission time.
        timestamp: OffsetDateTime,
    },
}

impl AnalyticsEvent {
    /// The event name.
    pub fn name(&self) -> &'static str {
        match self {
            AnalyticsEvent::StartupSucceeded { .. } => "sdk.startup.succeeded",
            AnalyticsEvent::StartupFailed { .. } => "sdk.startup.failed",
            AnalyticsEvent::KeyWeak { .. } => "platform.key.weak",
        }
    }

    /// The JSON object on one line, fields in the reference's order (`type`, `event`, `env`, …).
    pub fn to_json(&self) -> String {
        // serde_json's map sorts keys; the order here is the reference's, so write it by hand and
        // let serde_json escape the one free-form string (the environment name).
        let quote = |s: &str| serde_json::Value::from(s).to_string();
        match self {
            AnalyticsEvent::StartupSucceeded {
                env,
                key_length_bytes,
                timestamp,
            } => format!(
                r#"{{"type":"analytics","event":"{}","env":{},"key_length_bytes":{},"timestamp":"{}"}}"#,
                self.name(),
                quote(env),
                key_length_bytes,
                iso8601(*timestamp)
            ),
            AnalyticsEvent::StartupFailed {
                env,
                code,
                timestamp,
            } => format!(
                r#"{{"type":"analytics","event":"{}","env":{},"tier":{},"reason":"{}","timestamp":"{}"}}"#,
                self.name(),
                quote(env),
                code.tier(),
                code.reason(),
                iso8601(*timestamp)
            ),
            AnalyticsEvent::KeyWeak { env, timestamp } => format!(
                r#"{{"type":"analytics","event":"{}","env":{},"tier":3,"timestamp":"{}"}}"#,
                self.name(),
                quote(env),
                iso8601(*timestamp)
            ),
        }
    }
}

/// `2026-04-06T00:00:00.000Z`, as JavaScript's `toISOString()` writes it.
fn iso8601(t: OffsetDateTime) -> String {
    let utc = t.to_offset(time::UtcOffset::UTC);
    utc.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_else(|_| String::from("1970-01-01T00:00:00.000Z"))
}

/// Where analytics events go. Implementations must not fail the startup: swallow write errors.
pub trait AnalyticsSink {
    /// Records one event.
    fn emit(&mut self, event: &AnalyticsEvent);
}

/// The default sink: one JSON object per line on stdout; write errors are swallowed.
#[derive(Clone, Copy, Debug, Default)]
pub struct StdoutJsonLines;

impl AnalyticsSink for StdoutJsonLines {
    fn emit(&mut self, event: &AnalyticsEvent) {
        let mut line = event.to_json();
        line.push('\n');
        let mut out = std::io::stdout().lock();
        // Analytics must never crash startup.
        let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
    }
}

impl AnalyticsSink for Vec<AnalyticsEvent> {
    fn emit(&mut self, event: &AnalyticsEvent) {
        self.push(event.clone());
    }
}

impl<S: AnalyticsSink + ?Sized> AnalyticsSink for &mut S {
    fn emit(&mut self, event: &AnalyticsEvent) {
        (**self).emit(event);
    }
}

/// Runs the three-tier validation and reports it on a sink.
///
/// ```
/// use sealkit_vault::{AnalyticsEvent, StartupValidator};
///
/// let mut events: Vec<AnalyticsEvent> = Vec::new();
/// let result = StartupValidator::new()
///     .validate("test-encryption-key-exactly-32b!", Some("Production "), &mut events);
/// assert_eq!(result.unwrap_err().code.as_str(), "ENCRYPTION_KEY_BLOCKLISTED");
/// assert_eq!(events[1].name(), "platform.key.weak");
/// ```
#[derive(Clone, Debug)]
pub struct StartupValidator {
    environment_var: String,
}

impl Default for StartupValidator {
    fn default() -> Self {
        Self::new()
    }
}

impl StartupValidator {
    /// Reads the environment name from `NODE_ENV`.
    pub fn new() -> Self {
        Self {
            environment_var: DEFAULT_ENVIRONMENT_VAR.to_owned(),
        }
    }

    /// Reads the environment name from another variable.
    ///
    /// The name is reported in every analytics event, so a variable whose name says it holds a
    /// secret ([`names_a_secret`]: `ENCRYPTION_KEY`, `DATABASE_URL`, `API_TOKEN`, …) is never
    /// read: the name is reported as `"env":"unknown"`, and since the real environment is then
    /// unknown, validation runs as in production (all three tiers), failing closed. Check the name
    /// with [`names_a_secret`] first to refuse such a configuration outright, as
    /// `sealkit vault check` does.
    pub fn environment_variable(mut self, name: impl Into<String>) -> Self {
        self.environment_var = name.into();
        self
    }

    /// Validates `ENCRYPTION_KEY` and the environment name from the process environment and writes
    /// the events to stdout.
    ///
    /// # Errors
    /// The first failing tier.
    pub fn validate_env(&self) -> Result<StartupSuccess, StartupError> {
        self.validate_env_with_sink(&mut StdoutJsonLines)
    }

    /// As [`StartupValidator::validate_env`], with events going to `sink`.
    ///
    /// # Errors
    /// The first failing tier.
    pub fn validate_env_with_sink(
        &self,
        sink: &mut dyn AnalyticsSink,
    ) -> Result<StartupSuccess, StartupError> {
        self.validate_with_lookup(|name| std::env::var_os(name), sink)
    }

    /// As [`StartupValidator::validate_env_with_sink`], with variables read through `lookup`
    /// instead of the process environment (a configuration map, or a test, which cannot set
    /// process variables without racing other threads). `lookup` is asked for `ENCRYPTION_KEY`
    /// and for the environment variable, unless that one names a secret ([`names_a_secret`]),
    /// in which case it is never asked for it and the environment is withheld (see
    /// [`StartupValidator::environment_variable`]). Non-UTF-8
    /// values are read lossily, as Node reads them.
    ///
    /// ```
    /// use std::ffi::OsString;
    /// use sealkit_vault::{AnalyticsEvent, StartupValidator};
    ///
    /// let lookup = |name: &str| match name {
    ///     "ENCRYPTION_KEY" => Some(OsString::from("q4A8pB0hYxV3n1Jd6mZ0cWl2tR9sE5uK7oG+fH/iLwM=")),
    ///     "APP_ENV" => Some(OsString::from("staging")),
    ///     _ => None,
    /// };
    /// let mut events: Vec<AnalyticsEvent> = Vec::new();
    /// let ok = StartupValidator::new()
    ///     .environment_variable("APP_ENV")
    ///     .validate_with_lookup(lookup, &mut events)
    ///     .unwrap();
    /// assert_eq!(ok.environment, "staging");
    /// ```
    ///
    /// # Errors
    /// The first failing tier.
    pub fn validate_with_lookup<F>(
        &self,
        mut lookup: F,
        sink: &mut dyn AnalyticsSink,
    ) -> Result<StartupSuccess, StartupError>
    where
        F: FnMut(&str) -> Option<OsString>,
    {
        let key = lookup(ENCRYPTION_KEY_VAR).map(EncryptionKey::from_os_string);
        if names_a_secret(&self.environment_var) {
            return run_tiers(key.as_ref(), Environment::Withheld, sink);
        }
        let env = lookup(&self.environment_var).map(lossy_env_text);
        self.validate_key(key.as_ref(), env.as_ref().map(|e| e.as_str()), sink)
    }

    /// Validates a key string given directly (`""` counts as absent).
    ///
    /// # Errors
    /// The first failing tier.
    pub fn validate(
        &self,
        key: &str,
        environment: Option<&str>,
        sink: &mut dyn AnalyticsSink,
    ) -> Result<StartupSuccess, StartupError> {
        self.validate_key(Some(&EncryptionKey::new(key)), environment, sink)
    }

    /// Validates an optional key (`None` = unset).
    ///
    /// An `environment` that is the key itself (as given, or without surrounding whitespace and
    /// quotes) is withheld: reported as `unknown` (it would otherwise appear in the events and in
    /// [`StartupSuccess::environment`]) and validated as production, failing closed.
    ///
    /// # Errors
    /// The first failing tier.
    pub fn validate_key(
        &self,
        key: Option<&EncryptionKey>,
        environment: Option<&str>,
        sink: &mut dyn AnalyticsSink,
    ) -> Result<StartupSuccess, StartupError> {
        let environment = match environment {
            Some(name) if key.is_some_and(|k| is_the_key(name, k)) => Environment::Withheld,
            Some(name) => Environment::Named(name),
            None => Environment::Unset,
        };
        run_tiers(key, environment, sink)
    }
}

/// The environment name as validation sees it.
#[derive(Clone, Copy)]
enum Environment<'a> {
    Named(&'a str),
    Unset,
    /// Not to be reported (it may be a secret): shown as `unknown`, and treated as production,
    /// since the real environment cannot be known and the strictest checks are the safe ones.
    Withheld,
}

/// Runs the three tiers and emits their events.
fn run_tiers(
    key: Option<&EncryptionKey>,
    environment: Environment<'_>,
    sink: &mut dyn AnalyticsSink,
) -> Result<StartupSuccess, StartupError> {
    let (reported, production) = match environment {
        Environment::Named(name) => (Some(name), is_production(Some(name))),
        Environment::Unset => (None, false),
        Environment::Withheld => (None, true),
    };
    let env = reported.unwrap_or("unknown").to_owned();
    match check(key, production) {
        Ok(key_length_bytes) => {
            sink.emit(&AnalyticsEvent::StartupSucceeded {
                env: env.clone(),
                key_length_bytes,
                timestamp: OffsetDateTime::now_utc(),
            });
            Ok(StartupSuccess {
                environment: env,
                production,
                key_length_bytes,
            })
        }
        Err(error) => {
            let timestamp = OffsetDateTime::now_utc();
            sink.emit(&AnalyticsEvent::StartupFailed {
                env: env.clone(),
                code: error.code,
                timestamp,
            });
            if error.code == StartupCode::Blocklisted {
                sink.emit(&AnalyticsEvent::KeyWeak { env, timestamp });
            }
            Err(error)
        }
    }
}

/// Whether a variable's name says it holds a secret: one of its words (split at `_` and any other
/// character that is not an ASCII letter or digit, compared in any case) is `KEY`, `KEYS`,
/// `APIKEY`, `SECRET`, `TOKEN`, `PASSWORD`, `PASSWD`, `PASS`, `PWD`, `PASSPHRASE`,
/// `CREDENTIAL(S)`, `AUTH`, `PRIVATE`, `URL`, `URI` or `DSN`. So
/// `ENCRYPTION_KEY`, `DATABASE_URL`, `API_TOKEN` and `db_password` name secrets, while `NODE_ENV`,
/// `KEYCLOAK_ENV` and `TURNKEY_ENV` do not.
///
/// [`StartupValidator`] never reads the environment name from such a variable (the name is
/// reported in every event); this is the one definition of the rule.
///
/// ```
/// assert!(sealkit_vault::names_a_secret("ENCRYPTION_KEY"));
/// assert!(!sealkit_vault::names_a_secret("NODE_ENV"));
/// ```
pub fn names_a_secret(variable: &str) -> bool {
    variable
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| {
            SECRET_WORDS
                .iter()
                .any(|secret| word.eq_ignore_ascii_case(secret))
        })
}

/// Whether an environment name is the key: as given, or both without surrounding whitespace and
/// quotes (a variable set from the same secret through another loader). Constant time in the
/// contents, since one side is the key.
fn is_the_key(environment: &str, key: &EncryptionKey) -> bool {
    let raw = key.expose();
    if raw.is_empty() {
        return false;
    }
    let same_raw = environment.as_bytes().ct_eq(raw.as_bytes());
    let key_spelling = normalise_spelling(raw);
    let same_spelling = normalise_spelling(environment)
        .as_bytes()
        .ct_eq(key_spelling.as_bytes())
        & subtle::Choice::from(u8::from(!key_spelling.is_empty()));
    (same_raw | same_spelling).into()
}

/// Production when the environment name is `production` or `prod`, in any case, with any
/// surrounding whitespace (the reference's exact match let `Production` through).
pub fn is_production(environment: Option<&str>) -> bool {
    environment.is_some_and(|e| {
        let e = e.trim();
        e.eq_ignore_ascii_case("production") || e.eq_ignore_ascii_case("prod")
    })
}

/// True when the key is a public placeholder, compared after trimming whitespace and one pair of
/// surrounding `"` or `'`, and ignoring ASCII case, so that neither a trailing space, nor quotes
/// kept literally (`docker --env-file` does), nor a capital letter slips past.
pub fn is_blocklisted(key: &str) -> bool {
    let normalised = normalise_spelling(key).to_ascii_lowercase();
    let mut hit = subtle::Choice::from(0);
    for entry in BLOCKLIST {
        let entry = entry.to_ascii_lowercase();
        hit |= normalised.as_bytes().ct_eq(entry.as_bytes());
    }
    // Zeroize the normalised copy: it is key material.
    drop(Zeroizing::new(normalised));
    hit.into()
}

/// True for keys that are plainly not random: fewer than 6 distinct bytes (`aaaa…`, `abab…`), or
/// mostly one step between neighbours (`abcdefgh…`, `0123…`): at least three quarters of the
/// adjacent pairs share the same difference, which a random key essentially never does.
pub fn is_degenerate(key: &str) -> bool {
    let bytes = key.trim().as_bytes();
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &b in bytes {
        if !seen[usize::from(b)] {
            seen[usize::from(b)] = true;
            distinct += 1;
        }
    }
    if distinct < MIN_DISTINCT_BYTES {
        return true;
    }
    let mut steps = [0usize; 256];
    for w in bytes.windows(2) {
        steps[usize::from(w[1].wrapping_sub(w[0]))] += 1;
    }
    let most_common = steps.iter().copied().max().unwrap_or(0);
    most_common * 4 >= (bytes.len() - 1) * 3
}

fn check(key: Option<&EncryptionKey>, production: bool) -> Result<usize, StartupError> {
    let key = match key {
        Some(k) if !k.is_empty() => k,
        _ => {
            return Err(StartupError {
                code: StartupCode::Absent,
                message: "ENCRYPTION_KEY is not set.".to_owned(),
                suggestion: SUGGEST_GENERATE,
            });
        }
    };
    let len = key.len_bytes();
    if len < MIN_KEY_LEN {
        return Err(StartupError {
            code: StartupCode::Weak,
            message: format!(
                "ENCRYPTION_KEY failed byte-length check: expected >= {MIN_KEY_LEN} bytes, got {len}"
            ),
            suggestion: SUGGEST_GENERATE,
        });
    }
    if production {
        if is_blocklisted(key.expose()) {
            return Err(StartupError {
                code: StartupCode::Blocklisted,
                message: "ENCRYPTION_KEY is a known development placeholder and cannot be used in production"
                    .to_owned(),
                suggestion: SUGGEST_UNIQUE,
            });
        }
        if is_degenerate(key.expose()) {
            return Err(StartupError {
                code: StartupCode::Blocklisted,
                message: "ENCRYPTION_KEY has almost no variety (a repeated or sequential pattern) and cannot be used in production"
                    .to_owned(),
                suggestion: SUGGEST_UNIQUE,
            });
        }
    }
    Ok(len)
}

impl fmt::Display for StartupCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
