//! The crate's error type. No variant carries key material or a stored value: an error may be
//! logged by anyone, so it names what went wrong and nothing of the secret it went wrong with.

/// Why a value that claims to be ciphertext cannot be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// A `v2:` value without exactly three `:`-separated parts after the prefix.
    #[error("invalid v2 ciphertext format: expected v2:iv:authTag:data")]
    V2PartCount,
    /// A part is not canonical, padded, standard-alphabet base64.
    #[error("invalid v2 ciphertext: the {part} is not canonical base64")]
    Base64 {
        /// Which part (`IV`, `tag` or `ciphertext`).
        part: &'static str,
    },
    /// The IV of a `v2` value is not 12 bytes.
    #[error("invalid v2 ciphertext: the IV is {got} bytes, expected 12")]
    IvLength {
        /// Decoded length.
        got: usize,
    },
    /// The tag is not 16 bytes (truncated tags are refused).
    #[error("invalid v2 ciphertext: the authentication tag is {got} bytes, expected 16")]
    TagLength {
        /// Decoded length.
        got: usize,
    },
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The `ENCRYPTION_KEY` string is empty.
    #[error(
        "ENCRYPTION_KEY is empty; generate one with `openssl rand -base64 32` or `sealkit keygen`"
    )]
    EmptyKey,
    /// The value claims to be ciphertext but is malformed.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// Authentication failed under every configured key: the value was tampered with, or it was
    /// written under a key this vault does not hold.
    #[error(
        "decryption failed: the value was modified or was encrypted under a different ENCRYPTION_KEY"
    )]
    Decrypt,
    /// The decrypted bytes are not UTF-8, so they cannot be a settings string.
    #[error("decrypted value is not valid UTF-8")]
    NotUtf8,
    /// The plaintext is too long for one AES-GCM message.
    #[error("value is too long to encrypt")]
    TooLong,
    /// `SESSION_SIGNING_KEY` is not canonical standard base64.
    #[error("SESSION_SIGNING_KEY is not valid base64; generate one with `sealkit keygen`")]
    SigningKeyNotBase64,
    /// `SESSION_SIGNING_KEY` decodes to fewer than 32 bytes.
    #[error(
        "SESSION_SIGNING_KEY decodes to {got} bytes, expected at least 32; generate one with `sealkit keygen`"
    )]
    SigningKeyTooShort {
        /// Decoded length.
        got: usize,
    },
    /// `SESSION_SIGNING_KEY` is the same secret as `ENCRYPTION_KEY` (as a string or decoded).
    #[error(
        "SESSION_SIGNING_KEY must differ from ENCRYPTION_KEY; generate a separate one with `sealkit keygen`"
    )]
    SigningKeyEqualsEncryptionKey,
    /// The cookie is not `<base64url payload>.<base64url signature>`.
    #[error("session cookie is malformed: expected <payload>.<signature> in unpadded base64url")]
    CookieMalformed,
    /// The cookie's signature does not match.
    #[error("session cookie signature is invalid")]
    CookieSignature,
    /// The signed payload is not a JSON document (or lacks a numeric `exp` when expiry is enforced).
    #[error("session cookie payload is not valid JSON{0}")]
    CookiePayload(&'static str),
    /// The cookie's `exp` is in the past.
    #[error("session cookie has expired")]
    CookieExpired,
    /// A settings table name is not a plain SQL identifier.
    #[error("invalid table name (letters, digits and `_`, optionally `schema.table`)")]
    TableName,
    /// The settings store (database) failed.
    #[error("{backend} error: {message}")]
    Store {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The driver's message (never a stored value: queries are parameterised).
        message: String,
    },
    /// A table to migrate could not be read, found before anything was written: it does not
    /// exist, lacks a column the migration uses (`key`, `value`, `encrypted`, `updated_at`), or the
    /// connection may not read it. Its code is `store`, as for any other database failure.
    #[error("{backend} error: cannot read table {table}: {message}")]
    TableUnreadable {
        /// The table, as given.
        table: String,
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The driver's message.
        message: String,
    },
    /// A table to migrate may be read but not written, found before anything was written: the
    /// database is read-only to this connection (a read-only SQLite file or connection, a
    /// PostgreSQL standby or `default_transaction_read_only`), the name is a view that cannot be
    /// updated, or the connection may not update the `value` and `updated_at` columns. A dry run,
    /// which writes nothing, does not check this. Its code is `store`, as for any other database
    /// failure.
    #[error("{backend} error: cannot write table {table}: {message}")]
    TableNotWritable {
        /// The table, as given.
        table: String,
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The driver's message.
        message: String,
    },
    /// A settings table has keys on more than one encrypted row. The migration pages and
    /// updates by key, so it would skip or merge such rows; it writes nothing instead.
    #[error(
        "table {table} has {keys} key(s) on more than one encrypted row; the migration works by \
         key and would skip rows, so nothing was written: make `key` unique first"
    )]
    DuplicateKeys {
        /// The table.
        table: String,
        /// How many keys are duplicated.
        keys: u64,
    },
    /// A `--database-url` this build cannot open.
    #[error("unsupported database URL (use sqlite://PATH or postgres://...)")]
    DatabaseUrl,
    /// The URL names a database whose store this build leaves out (a cargo feature).
    #[error(
        "this build has no {backend} store: enable this crate's `{feature}` feature (`vault-{feature}` in sealkit)"
    )]
    StoreNotBuilt {
        /// `SQLite` or `PostgreSQL`.
        backend: &'static str,
        /// The feature that adds it: `sqlite` or `postgres`.
        feature: &'static str,
    },
    /// A connection option that does not apply to the database the URL names (for example a CA
    /// file for a SQLite database), refused rather than ignored: the URL is most likely not the
    /// database the caller meant.
    #[error("{0}")]
    DatabaseOption(&'static str),
}

impl VaultError {
    /// A stable code for scripts and logs: snake_case, except for an empty key, which has the
    /// startup check's code for the same condition (`ENCRYPTION_KEY_ABSENT`, the reference's).
    pub fn code(&self) -> &'static str {
        match self {
            VaultError::EmptyKey => "ENCRYPTION_KEY_ABSENT",
            VaultError::Format(_) => "format",
            VaultError::Decrypt => "decrypt",
            VaultError::NotUtf8 => "not_utf8",
            VaultError::TooLong => "too_long",
            VaultError::SigningKeyNotBase64 => "session_key_invalid",
            VaultError::SigningKeyTooShort { .. } => "session_key_too_short",
            VaultError::SigningKeyEqualsEncryptionKey => "session_key_reused",
            VaultError::CookieMalformed => "cookie_malformed",
            VaultError::CookieSignature => "cookie_signature",
            VaultError::CookiePayload(_) => "cookie_payload",
            VaultError::CookieExpired => "cookie_expired",
            VaultError::TableName => "table_name",
            VaultError::Store { .. }
            | VaultError::TableUnreadable { .. }
            | VaultError::TableNotWritable { .. } => "store",
            VaultError::DuplicateKeys { .. } => "duplicate_keys",
            VaultError::DatabaseUrl => "database_url",
            VaultError::StoreNotBuilt { .. } => "store_not_built",
            VaultError::DatabaseOption(_) => "database_option",
        }
    }
}
