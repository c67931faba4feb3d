//! `sealkit envelope` — RSA-OAEP + AES-256-GCM envelopes (Striae-compatible): key generation, seal,
//! open, rewrap, and the key-registry operator jobs (rotate, validate).
//!
//! Private keys come from the scope's environment variables or from files, never from flag values.
//! `open` and `rewrap` print the decryption telemetry record as one JSON line on stderr when they
//! succeed; a failure prints only the error line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use sealkit::envelope::{
    self as env, CandidatePolicy, EnvLookup, EnvelopeMetadata, KeyRegistry, OpenPolicy, Opener,
    ProcessEnv, RegistryDocument, Scope, Sealer,
};
use serde_json::json;
use zeroize::Zeroizing;

use crate::failure::{CliError, CliResult};
use crate::io;

/// Subcommands of `sealkit envelope`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Generate an RSA key pair (e = 65537) and a 10-character key id.
    Keygen(KeygenArgs),
    /// Seal stdin into an envelope: a KV record (`--kv`), or metadata JSON on stdout and the body
    /// to `--body-out`.
    Seal(SealArgs),
    /// Open a KV record (stdin, `--kv`) or an object body (stdin, `--metadata FILE`); plaintext on
    /// stdout, telemetry on stderr.
    Open(OpenArgs),
    /// Re-wrap an envelope's data key under the active key; the ciphertext is not changed. A KV
    /// record's ciphertext (and an object body given with `--body`) must authenticate first.
    Rewrap(RewrapArgs),
    /// Key-registry operator jobs.
    #[command(subcommand)]
    Registry(RegistryCommand),
}

/// `sealkit envelope registry …`
#[derive(clap::Subcommand)]
pub enum RegistryCommand {
    /// Generate a key, append it to the registry and make it active (nested form).
    Rotate(RotateArgs),
    /// Parse and check a registry (every key, the active key, and the write-side public key).
    Validate(ValidateArgs),
}

/// Arguments of `keygen`.
#[derive(clap::Args)]
pub struct KeygenArgs {
    /// RSA modulus size.
    #[arg(long, default_value_t = 2048, value_parser = parse_bits)]
    bits: usize,
    /// Print `{keyId, privateKeyPem, publicKeyPem}` as JSON.
    #[arg(long)]
    json: bool,
    /// Write the private key to this file (mode 0600) instead of stdout.
    #[arg(long)]
    private_key_out: Option<PathBuf>,
    /// Write the public key to this file instead of stdout.
    #[arg(long)]
    public_key_out: Option<PathBuf>,
}

/// Arguments of `seal`.
#[derive(clap::Args)]
pub struct SealArgs {
    /// SPKI PEM public key file.
    #[arg(long)]
    public_key: PathBuf,
    /// Key id written into the envelope.
    #[arg(long)]
    key_id: String,
    /// Print the KV record (one JSON string) instead of object metadata.
    #[arg(long)]
    kv: bool,
    /// Object form: where to write the raw body (`C ‖ T`).
    #[arg(long, required_unless_present = "kv", conflicts_with = "kv")]
    body_out: Option<PathBuf>,
    /// Write the opt-in bound version (metadata authenticated with `--context`).
    #[arg(long)]
    bound: bool,
    /// Context bound into a bound envelope (object name, user id, …).
    #[arg(long, default_value = "", requires = "bound")]
    context: String,
}

/// Arguments of `open` and `rewrap`.
#[derive(clap::Args)]
pub struct OpenArgs {
    /// Key scope: data-at-rest, user-kv or export (or DATA_AT_REST_ENCRYPTION, …).
    #[arg(long)]
    scope: String,
    /// Registry JSON file (nested or flat) instead of the scope's environment variables.
    #[arg(long)]
    registry: Option<PathBuf>,
    /// stdin is a KV record.
    #[arg(
        long,
        conflicts_with = "metadata",
        required_unless_present = "metadata"
    )]
    kv: bool,
    /// Object form: the metadata JSON file (stdin is the body for `open`; `rewrap` reads the body
    /// only from `--body`).
    #[arg(long)]
    metadata: Option<PathBuf>,
    /// Context the envelope was bound to (bound version only).
    #[arg(long, default_value = "")]
    context: String,
    /// Try at most this many keys.
    #[arg(long)]
    max_attempts: Option<usize>,
    /// When the record's key id is registered, try only that key.
    #[arg(long)]
    authoritative_key_id: bool,
    /// Refuse unbound `1.0` envelopes.
    #[arg(long)]
    require_bound: bool,
}

/// Arguments of `rewrap`.
#[derive(clap::Args)]
pub struct RewrapArgs {
    #[command(flatten)]
    open: OpenArgs,
    /// Object form: the body file, checked against the data key before rewrapping (the metadata
    /// alone cannot show that the body is intact).
    #[arg(long, conflicts_with = "kv", value_name = "FILE")]
    body: Option<PathBuf>,
}

/// Arguments of `registry rotate`.
#[derive(clap::Args)]
pub struct RotateArgs {
    /// Registry JSON file to update (created if missing). Without it the scope's environment is
    /// read and the result printed in `.env` form.
    #[arg(long)]
    registry: Option<PathBuf>,
    /// Key scope (names the `.env` variables).
    #[arg(long, default_value = "data-at-rest")]
    scope: String,
    /// RSA modulus size of the new key.
    #[arg(long, default_value_t = 2048, value_parser = parse_bits)]
    bits: usize,
    /// Print the escaped single-line `.env` form (`{SCOPE}_KEYS_JSON='…'` and friends).
    #[arg(long, conflicts_with = "json")]
    env: bool,
    /// Print `{keyId, activeKeyId, keyIds, publicKeyPem}` as JSON.
    #[arg(long)]
    json: bool,
    /// Also write the new public key to this file.
    #[arg(long)]
    public_key_out: Option<PathBuf>,
}

/// Arguments of `registry validate`.
#[derive(clap::Args)]
pub struct ValidateArgs {
    /// Key scope.
    #[arg(long, default_value = "data-at-rest")]
    scope: String,
    /// Registry JSON file instead of the scope's environment variables.
    #[arg(long)]
    registry: Option<PathBuf>,
    /// Write-side public key file to check against the registry (needs `--key-id`).
    #[arg(long, requires = "key_id")]
    public_key: Option<PathBuf>,
    /// Write-side key id.
    #[arg(long, requires = "public_key")]
    key_id: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs one subcommand.
pub fn run(command: Command) -> CliResult {
    match command {
        Command::Keygen(args) => keygen(args),
        Command::Seal(args) => seal(args),
        Command::Open(args) => open(args),
        Command::Rewrap(args) => rewrap(args),
        Command::Registry(RegistryCommand::Rotate(args)) => rotate(args),
        Command::Registry(RegistryCommand::Validate(args)) => validate(args),
    }
}

fn parse_bits(text: &str) -> Result<usize, String> {
    match text {
        "2048" => Ok(2048),
        "3072" => Ok(3072),
        "4096" => Ok(4096),
        _ => Err("RSA key size must be 2048, 3072 or 4096".to_owned()),
    }
}

fn fail(error: env::Error) -> CliError {
    CliError::new(error.code(), error)
}

fn parse_scope(text: &str) -> Result<Scope, CliError> {
    Scope::parse(text).ok_or_else(|| {
        CliError::usage(format!(
            "unknown scope {text:?}: use data-at-rest, user-kv or export"
        ))
    })
}

fn utf8_file(path: &Path, secret: bool) -> Result<Zeroizing<String>, CliError> {
    let bytes = if secret {
        io::read_secret_file(path)?
    } else {
        Zeroizing::new(io::read_file(path)?)
    };
    String::from_utf8(bytes.to_vec())
        .map(Zeroizing::new)
        .map_err(|_| {
            CliError::new(
                "invalid_input",
                format!("{} is not UTF-8 text", path.display()),
            )
        })
}

/// Writes a file that holds private keys, replacing any old one atomically: the bytes go to a new
/// file in the same directory, are synced, and the new file is renamed over the old one. An
/// interrupted write (a kill, a full disk) leaves the old file whole, which for a registry means
/// every old key survives. A symbolic link is followed, so the file it points at is replaced.
///
/// On Unix a new file is mode 0600. A replaced file keeps its owner and group (a registry owned by
/// a service account stays readable by that service when an operator rotates it with `sudo`) and
/// its owner and group permissions, but loses any permission for others: private keys are never
/// world-readable. When the owner or group cannot be kept, nothing is replaced.
fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    let error = |e: std::io::Error| CliError::io(&format!("writing {}", path.display()), e);
    let existing = std::fs::metadata(path).ok();
    let target = match &existing {
        Some(_) => std::fs::canonicalize(path).map_err(error)?,
        None => path.to_path_buf(),
    };
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    // tempfile creates the file with mode 0600 and a name nobody else can claim.
    let mut file = tempfile::Builder::new()
        .prefix(".sealkit-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(error)?;
    #[cfg(unix)]
    if let Some(old) = &existing {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        std::os::unix::fs::fchown(file.as_file(), Some(old.uid()), Some(old.gid())).map_err(
            |e| {
                CliError::io(
                    &format!(
                        "keeping the owner and group of {} (run as its owner; nothing was changed)",
                        path.display()
                    ),
                    e,
                )
            },
        )?;
        let mode = (old.mode() & 0o660) | 0o600;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(error)?;
    }
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .map_err(error)?;
    file.persist(&target).map_err(|e| error(e.error))?;
    // The rename is durable once the directory entry is.
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(error)?;
    Ok(())
}

fn keygen(args: KeygenArgs) -> CliResult {
    let pair = env::generate_key_pair(args.bits).map_err(fail)?;
    if let Some(path) = &args.private_key_out {
        write_private_file(path, pair.private_key_pem.as_bytes())?;
    }
    if let Some(path) = &args.public_key_out {
        io::write_file(path, pair.public_key_pem.as_bytes())?;
    }
    if args.json {
        // Built by hand so the private key only ever sits in wiped buffers.
        let quote = |s: &str| Zeroizing::new(serde_json::to_string(s).unwrap_or_default());
        // Reserved up front: a reallocation would leave an unwiped copy behind.
        let mut text = Zeroizing::new(String::with_capacity(16 * 1024));
        text.push_str("{\"keyId\":");
        text.push_str(&quote(&pair.key_id));
        if args.private_key_out.is_none() {
            text.push_str(",\"privateKeyPem\":");
            text.push_str(&quote(&pair.private_key_pem));
        }
        text.push_str(",\"publicKeyPem\":");
        text.push_str(&quote(&pair.public_key_pem));
        text.push('}');
        return io::print_line(&text).map(|()| ExitCode::SUCCESS);
    }
    io::print_line(&pair.key_id)?;
    if args.private_key_out.is_none() {
        io::write_stdout(pair.private_key_pem.as_bytes())?;
    }
    if args.public_key_out.is_none() {
        io::write_stdout(pair.public_key_pem.as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn seal(args: SealArgs) -> CliResult {
    let pem = utf8_file(&args.public_key, false)?;
    let mut sealer = Sealer::from_public_key_pem(&args.key_id, &pem).map_err(fail)?;
    if args.bound {
        sealer = sealer.bound();
    }
    let payload = io::read_stdin_secret()?;
    let object = sealer
        .seal(&payload, args.context.as_bytes())
        .map_err(fail)?;
    if args.kv {
        return io::print_line(&object.into_kv().to_json()).map(|()| ExitCode::SUCCESS);
    }
    let Some(body_out) = &args.body_out else {
        return Err(CliError::usage(
            "the object form needs --body-out FILE (or use --kv)",
        ));
    };
    io::write_file(body_out, &object.body)?;
    io::print_line(&object.metadata.to_json()).map(|()| ExitCode::SUCCESS)
}

fn load_registry(scope: Scope, file: Option<&Path>) -> Result<KeyRegistry, CliError> {
    match file {
        Some(path) => {
            let json = utf8_file(path, true)?;
            KeyRegistry::from_json(scope, &json, None).map_err(fail)
        }
        None => KeyRegistry::from_env(scope).map_err(|error| match error {
            env::Error::RegistryNotConfigured { .. } => CliError::new(
                error.code(),
                format!(
                    "{error} (set {p}_KEYS_JSON, or {p}_PRIVATE_KEY with {p}_KEY_ID, or pass --registry FILE)",
                    p = scope.env_prefix()
                ),
            ),
            other => fail(other),
        }),
    }
}

fn opener(args: &OpenArgs) -> Result<Opener, CliError> {
    let scope = parse_scope(&args.scope)?;
    let registry = load_registry(scope, args.registry.as_deref())?;
    Ok(Opener::new(Arc::new(registry)).with_policy(OpenPolicy {
        candidates: CandidatePolicy {
            max_attempts: args.max_attempts,
            authoritative_key_id: args.authoritative_key_id,
        },
        require_bound: args.require_bound,
    }))
}

fn read_metadata(path: &Path) -> Result<EnvelopeMetadata, CliError> {
    let text = utf8_file(path, false)?;
    EnvelopeMetadata::from_json(&text).map_err(fail)
}

fn open(args: OpenArgs) -> CliResult {
    let opener = opener(&args)?;
    let context = args.context.as_bytes();
    let opened = match &args.metadata {
        Some(path) => {
            let metadata = read_metadata(path)?;
            let body = io::read_stdin()?;
            opener.open(&metadata, &body, context)
        }
        None => {
            let record = io::read_stdin()?;
            let record =
                std::str::from_utf8(&record).map_err(|_| fail(env::Error::NotAnEnvelope))?;
            opener.open_kv(record, context)
        }
    }
    .map_err(fail)?;
    io::write_stdout(&opened.plaintext)?;
    eprintln!("{}", opened.telemetry.to_json());
    Ok(ExitCode::SUCCESS)
}

fn rewrap(args: RewrapArgs) -> CliResult {
    let RewrapArgs { open: args, body } = args;
    let opener = opener(&args)?;
    let context = args.context.as_bytes();
    let (output, telemetry) = match &args.metadata {
        Some(path) => {
            let metadata = read_metadata(path)?;
            let (rewrapped, telemetry) = match &body {
                Some(body) => opener.rewrap_checked(&metadata, &io::read_file(body)?, context),
                None => opener.rewrap(&metadata, context),
            }
            .map_err(fail)?;
            (rewrapped.to_json(), telemetry)
        }
        None => {
            let record = io::read_stdin()?;
            let record =
                std::str::from_utf8(&record).map_err(|_| fail(env::Error::NotAnEnvelope))?;
            opener.rewrap_kv(record, context).map_err(fail)?
        }
    };
    io::print_line(&output)?;
    eprintln!("{}", telemetry.to_json());
    Ok(ExitCode::SUCCESS)
}

/// The registry document for rotation: from the file (empty if it does not exist yet) or from the
/// scope's environment (registry JSON, or the legacy single key converted to the nested form).
fn rotation_source(scope: Scope, file: Option<&Path>) -> Result<RegistryDocument, CliError> {
    if let Some(path) = file {
        if !path.exists() {
            return Ok(RegistryDocument::default());
        }
        let json = utf8_file(path, true)?;
        return RegistryDocument::parse(scope, &json).map_err(fail);
    }
    let env = ProcessEnv;
    if let Some(json) = env.non_blank(&scope.var("KEYS_JSON")) {
        let json = Zeroizing::new(json);
        let mut doc = RegistryDocument::parse(scope, &json).map_err(fail)?;
        if let Some(active) = env.non_blank(&scope.var("ACTIVE_KEY_ID")) {
            doc.active_key_id = Some(active.trim().to_owned());
        }
        return Ok(doc);
    }
    let mut doc = RegistryDocument::default();
    if let Some(pem) = env.non_blank(&scope.var("PRIVATE_KEY")) {
        let pem = Zeroizing::new(pem);
        let key_id = env.non_blank(&scope.var("KEY_ID")).ok_or_else(|| {
            fail(env::Error::LegacyKeyIdMissing {
                scope: scope.label(),
            })
        })?;
        let normalized = env::keys::normalize_pem(&pem);
        doc.rotate_in(key_id.trim(), &normalized).map_err(fail)?;
    }
    Ok(doc)
}

/// `NAME='value'` for a `.env` file; values holding a single quote cannot be written this way.
fn env_line(name: &str, value: &str) -> Result<Zeroizing<String>, CliError> {
    if value.contains('\'') || value.contains('\n') {
        return Err(CliError::new(
            "unsupported_value",
            format!("{name} cannot be written as a single-quoted .env line"),
        ));
    }
    Ok(Zeroizing::new(format!("{name}='{value}'")))
}

fn rotate(args: RotateArgs) -> CliResult {
    let scope = parse_scope(&args.scope)?;
    let mut doc = rotation_source(scope, args.registry.as_deref())?;
    let pair = env::generate_key_pair(args.bits).map_err(fail)?;
    doc.rotate_in(&pair.key_id, &pair.private_key_pem)
        .map_err(fail)?;
    // Refuse to write a registry that would not load (e.g. a broken existing entry).
    let registry = KeyRegistry::from_document(scope, &doc, None).map_err(fail)?;
    let json = doc.to_nested_json();
    if let Some(path) = &args.registry {
        write_private_file(path, json.as_bytes())?;
    }
    if let Some(path) = &args.public_key_out {
        io::write_file(path, pair.public_key_pem.as_bytes())?;
    }
    if args.env || args.registry.is_none() {
        let public_escaped = pair.public_key_pem.replace('\n', "\\n");
        let lines = [
            env_line(&scope.var("KEYS_JSON"), &json)?,
            env_line(&scope.var("ACTIVE_KEY_ID"), &pair.key_id)?,
            env_line(&scope.var("KEY_ID"), &pair.key_id)?,
            env_line(&scope.var("PUBLIC_KEY"), &public_escaped)?,
        ];
        for line in &lines {
            io::print_line(line)?;
        }
    } else if args.json {
        let out = json!({
            "keyId": pair.key_id,
            "activeKeyId": registry.active_key_id(),
            "keyIds": registry.key_ids().collect::<Vec<_>>(),
            "publicKeyPem": pair.public_key_pem,
        });
        io::print_line(&out.to_string())?;
    } else {
        io::print_line(&pair.key_id)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn validate(args: ValidateArgs) -> CliResult {
    let scope = parse_scope(&args.scope)?;
    let registry = load_registry(scope, args.registry.as_deref())?;
    let mut write_key = None;
    if let (Some(path), Some(key_id)) = (&args.public_key, &args.key_id) {
        let pem = utf8_file(path, false)?;
        let sealer = Sealer::from_public_key_pem(key_id, &pem).map_err(fail)?;
        registry.validate_write_key(&sealer).map_err(fail)?;
        write_key = Some(key_id.clone());
    } else if args.registry.is_none() && ProcessEnv.non_blank(&scope.var("PUBLIC_KEY")).is_some() {
        // KeyRegistry::from_env already checked the environment's write side.
        write_key = ProcessEnv
            .non_blank(&scope.var("KEY_ID"))
            .map(|k| k.trim().to_owned());
    }
    let mut keys = Vec::new();
    for id in registry.key_ids() {
        let public = registry
            .public_key(id)
            .ok_or_else(|| CliError::new("internal", "registry key vanished during validation"))?;
        let fingerprint = env::keys::spki_sha256(&public).map_err(fail)?;
        keys.push(json!({
            "keyId": id,
            "bits": env::keys::public_key_bits(&public),
            "spkiSha256": fingerprint.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        }));
    }
    if args.json {
        let out = json!({
            "ok": true,
            "scope": scope.label(),
            "activeKeyId": registry.active_key_id(),
            "keys": keys,
            "writeKeyId": write_key,
        });
        io::print_line(&out.to_string())?;
    } else {
        let active = registry.active_key_id().unwrap_or("(none)");
        io::print_line(&format!(
            "ok: {} registry, {} key(s), active key {active}{}",
            scope.label(),
            registry.len(),
            write_key
                .map(|k| format!(", write key {k} matches"))
                .unwrap_or_default()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_key_sizes_are_checked_with_usage_errors() {
        assert_eq!(parse_scope("user-kv").ok(), Some(Scope::UserKv));
        assert_eq!(parse_scope("USER_KV_ENCRYPTION").ok(), Some(Scope::UserKv));
        assert_eq!(
            parse_scope("users")
                .err()
                .map(|e| e.code().to_owned())
                .as_deref(),
            Some("usage")
        );
        assert_eq!(parse_bits("3072"), Ok(3072));
        assert!(parse_bits("1024").is_err());
    }

    #[test]
    fn env_lines_refuse_values_that_would_break_quoting() {
        assert_eq!(env_line("A", "x\\ny").unwrap().as_str(), "A='x\\ny'");
        assert_eq!(
            env_line("A", "it's")
                .err()
                .map(|e| e.code().to_owned())
                .as_deref(),
            Some("unsupported_value")
        );
    }
}
