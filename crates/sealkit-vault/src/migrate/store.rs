//! The small storage interface the migration runs on, so SQLite and PostgreSQL share one code path.

use std::fmt;

use crate::error::VaultError;

/// A validated SQL table name: `name` or `schema.name`, each part letters, digits and `_`, not
/// starting with a digit. Validation is what makes it safe to splice into SQL (always quoted).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TableName {
    name: String,
    quoted: String,
}

impl TableName {
    /// Validates a table name.
    ///
    /// # Errors
    /// [`VaultError::TableName`] for anything but plain identifiers.
    pub fn new(name: &str) -> Result<Self, VaultError> {
        let parts: Vec<&str> = name.split('.').collect();
        let valid_ident = |p: &str| {
            !p.is_empty()
                && p.len() <= 63
                && !p.as_bytes()[0].is_ascii_digit()
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        };
        if parts.len() > 2 || !parts.iter().all(|p| valid_ident(p)) {
            return Err(VaultError::TableName);
        }
        let quoted = parts
            .iter()
            .map(|p| format!("\"{p}\""))
            .collect::<Vec<_>>()
            .join(".");
        Ok(Self {
            name: name.to_owned(),
            quoted,
        })
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The quoted identifier for SQL text.
    pub fn quoted(&self) -> &str {
        &self.quoted
    }
}

impl fmt::Debug for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// One `encrypted = true` row. `Debug` shows the key, never the value.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredRow {
    /// The setting's name (primary key).
    pub key: String,
    /// The stored value.
    pub value: StoredValue,
}

/// A stored value as the migration reads it.
#[derive(Clone, PartialEq, Eq)]
pub enum StoredValue {
    /// Text: ciphertext, or whatever is there.
    Text(String),
    /// Not text the vault can read: SQL `NULL`, a value that is not text (binary, a number in a
    /// column without text affinity), or bytes that are not UTF-8. Hand-made schemas and SQLite
    /// allow all of these. The row is reported as failed by key and never written, and the rest
    /// of the run goes on. The PostgreSQL store gives it for `NULL` only: a value that PostgreSQL
    /// cannot hand over as text fails the whole fetch with a store error instead.
    Unreadable,
}

impl fmt::Debug for StoredRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredRow")
            .field("key", &self.key)
            .field("value", &"[REDACTED]")
            .finish()
    }
}

/// The encrypted rows of a table whose key the migration cannot read, from
/// [`SettingsStore::unreadable_keys`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnreadableKeys {
    /// How many there are.
    pub count: u64,
    /// For the first of them (up to the number asked for), an SQL expression for the key that
    /// finds the row: `NULL`, `X'00FF'`, `CAST(X'C328' AS TEXT)`.
    pub listed: Vec<String>,
}

/// A compare-and-swap: set `value = new` only where `value = old` still holds.
#[derive(Clone, PartialEq, Eq)]
pub struct CasUpdate {
    /// The row's key.
    pub key: String,
    /// The value the migration read.
    pub old: String,
    /// The value to write.
    pub new: String,
}

impl fmt::Debug for CasUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CasUpdate")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// A settings store: tables with columns `key TEXT PRIMARY KEY, value TEXT NOT NULL,
/// encrypted BOOLEAN NOT NULL, updated_at TIMESTAMP`. Every method sees `encrypted = true` rows only.
pub trait SettingsStore {
    /// `sqlite` or `postgres`, for messages.
    fn backend(&self) -> &'static str;

    /// Checks, before the migration reads a row, that `table` has every column the migration
    /// uses (`key`, `value`, `encrypted`, `updated_at`), that this connection may read the three
    /// it reads, and, when `write`, that it may update `value` and `updated_at` (without changing
    /// anything): so that a table the run could not finish stops it before any table is written,
    /// rather than at its first batch. Required, so that a store wrapping another forwards it.
    ///
    /// # Errors
    /// [`VaultError::Store`] when the table or a column is missing or cannot be read (the
    /// migration reports it as [`VaultError::TableUnreadable`]); [`VaultError::TableNotWritable`]
    /// when it cannot be written.
    fn check_table(&mut self, table: &TableName, write: bool) -> Result<(), VaultError>;

    /// Number of `encrypted = true` rows (for the progress total).
    ///
    /// # Errors
    /// [`VaultError::Store`].
    fn count_encrypted(&mut self, table: &TableName) -> Result<u64, VaultError>;

    /// Up to `limit` encrypted rows with `key > after` (all keys when `None`), ordered by key.
    /// Rows whose key cannot be read (see [`SettingsStore::unreadable_keys`]) are left out
    /// without taking a place: an empty answer means the end of the table, so it must never come
    /// from a run of such rows.
    ///
    /// # Errors
    /// [`VaultError::Store`].
    fn fetch_encrypted(
        &mut self,
        table: &TableName,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredRow>, VaultError>;

    /// The row with this key if it exists and is still `encrypted = true`.
    ///
    /// # Errors
    /// [`VaultError::Store`].
    fn fetch_one(&mut self, table: &TableName, key: &str) -> Result<Option<StoredRow>, VaultError>;

    /// Applies the updates in one transaction, each as
    /// `UPDATE … SET value = new, updated_at = now WHERE key = k AND value = old AND encrypted = true`.
    /// Returns, per update, whether it matched (false: the row changed meanwhile and was left alone).
    ///
    /// # Errors
    /// [`VaultError::Store`]; the transaction is then rolled back.
    fn compare_and_swap(
        &mut self,
        table: &TableName,
        updates: &[CasUpdate],
    ) -> Result<Vec<bool>, VaultError>;

    /// Encrypted rows whose key is not text the migration can read: SQL `NULL`, a number or binary
    /// value, or bytes that are not UTF-8 (SQLite allows all of these, even in a `TEXT PRIMARY
    /// KEY`). Such a row can be neither paged past nor updated by key, so the fetch methods skip
    /// it and the migration reports it as failed ([`UNREADABLE_KEY`](super::UNREADABLE_KEY)), on
    /// every run, instead of stopping. `list` caps [`UnreadableKeys::listed`], not the count.
    ///
    /// The default reports none: right for stores whose keys are always readable text.
    ///
    /// # Errors
    /// [`VaultError::Store`].
    fn unreadable_keys(
        &mut self,
        table: &TableName,
        list: usize,
    ) -> Result<UnreadableKeys, VaultError> {
        let _ = (table, list);
        Ok(UnreadableKeys::default())
    }

    /// How many keys appear on more than one encrypted row (among keys the fetches return).
    /// The migration pages and updates by key, so it refuses a table where this is not 0
    /// ([`VaultError::DuplicateKeys`]): a page boundary between two such rows would skip one.
    ///
    /// # Errors
    /// [`VaultError::Store`].
    fn duplicate_keys(&mut self, table: &TableName) -> Result<u64, VaultError>;

    /// The verification count: `encrypted = true AND (value IS NULL OR value NOT LIKE 'v2:%')`.
    /// The reference's query has no `IS NULL` and so misses `NULL` values.
    ///
    /// # Errors
    /// [`VaultError::Store`].
    fn count_not_v2(&mut self, table: &TableName) -> Result<u64, VaultError>;
}

/// How [`open_store_with`] connects, beyond what the URL says.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct StoreOptions {
    /// A PEM file of CA certificates that a PostgreSQL server's TLS certificate is also checked
    /// against (the system's trust store is always used). Refused with a SQLite URL.
    pub ca_file: Option<std::path::PathBuf>,
}

impl StoreOptions {
    /// Checks PostgreSQL server certificates against the CA certificates in `path` too.
    #[must_use]
    pub fn ca_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }
}

/// Opens the store a `--database-url` names: `sqlite://PATH` / `sqlite:PATH` (an existing file) or
/// `postgres://…` / `postgresql://…` (TLS per the URL's `sslmode`, server certificates checked
/// against the system's trust store).
///
/// # Errors
/// [`VaultError::DatabaseUrl`] for other schemes or a backend compiled out, [`VaultError::Store`]
/// when connecting fails.
pub fn open_store(url: &str) -> Result<Box<dyn SettingsStore>, VaultError> {
    open_store_with(url, &StoreOptions::default())
}

/// [`open_store`] with [`StoreOptions`].
///
/// # Errors
/// As [`open_store`]; also [`VaultError::Store`] when the CA file cannot be read or parsed, and
/// [`VaultError::DatabaseOption`] for a CA file with a SQLite URL.
pub fn open_store_with(
    url: &str,
    options: &StoreOptions,
) -> Result<Box<dyn SettingsStore>, VaultError> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        if options.ca_file.is_some() {
            return Err(VaultError::DatabaseOption(
                "a CA file (--database-ca-file) is for PostgreSQL servers, but the database URL \
                 names a SQLite file; check DATABASE_URL / --database-url",
            ));
        }
        #[cfg(feature = "sqlite")]
        return Ok(Box::new(super::sqlite::SqliteStore::open(
            std::path::Path::new(path),
        )?));
        #[cfg(not(feature = "sqlite"))]
        {
            let _ = path;
            return Err(VaultError::StoreNotBuilt {
                backend: "SQLite",
                feature: "sqlite",
            });
        }
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        {
            use super::postgres::{PostgresStore, PostgresTls};
            let tls = match &options.ca_file {
                Some(path) => PostgresTls::with_root_certificates_file(path)?,
                None => PostgresTls::system_roots()?,
            };
            return Ok(Box::new(PostgresStore::connect_with(url, &tls)?));
        }
        #[cfg(not(feature = "postgres"))]
        {
            let _ = options;
            return Err(VaultError::StoreNotBuilt {
                backend: "PostgreSQL",
                feature: "postgres",
            });
        }
    }
    Err(VaultError::DatabaseUrl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_is_refused_for_sqlite_before_anything_is_opened() {
        let options = StoreOptions::default().ca_file("ca.pem");
        for url in ["sqlite://does-not-exist.db", "sqlite:does-not-exist.db"] {
            assert!(matches!(
                open_store_with(url, &options),
                Err(VaultError::DatabaseOption(_))
            ));
        }
    }

    /// A build without a store names the feature that adds it (CI runs these unit tests once
    /// with no default features, where both are left out).
    #[test]
    fn a_store_left_out_of_the_build_names_its_feature() {
        let cases = [
            ("sqlite://settings.db", cfg!(feature = "sqlite"), "sqlite"),
            (
                "postgres://db.invalid/x",
                cfg!(feature = "postgres"),
                "postgres",
            ),
        ];
        for (url, built, wanted) in cases {
            if built {
                continue;
            }
            match open_store_with(url, &StoreOptions::default()) {
                Err(VaultError::StoreNotBuilt { feature, .. }) => assert_eq!(feature, wanted),
                other => panic!("{url}: {:?}", other.map(|_| "a store")),
            }
        }
    }

    #[test]
    fn table_names_are_identifiers_only() {
        assert_eq!(
            TableName::new("ciam_settings").unwrap().quoted(),
            "\"ciam_settings\""
        );
        assert_eq!(
            TableName::new("app.iam_settings").unwrap().quoted(),
            "\"app\".\"iam_settings\""
        );
        for bad in [
            "",
            "a b",
            "x;drop table y",
            "\"q\"",
            "1abc",
            "a.b.c",
            "a.",
            "t-1",
        ] {
            assert!(TableName::new(bad).is_err(), "{bad}");
        }
    }
}
