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
    ProcessEnv, RegistryDocument, Scope, Sealer, registry::js_trim,
};
use serde_json::json;
use zeroize::Zeroizing;

use crate::failure::{CliError, CliResult};
use crate::io;
use crate::output::{self, Access, NewFile, Replacement};

/// Where a scope's keys come from without `--registry` (shown under `--help`).
const REGISTRY_ENVIRONMENT_HELP: &str = "Environment (without --registry), for the scope's PREFIX:
  data-at-rest = DATA_AT_REST_ENCRYPTION, user-kv = USER_KV_ENCRYPTION, export = EXPORT_ENCRYPTION
  PREFIX_KEYS_JSON        the registry JSON (nested or flat); PREFIX_ACTIVE_KEY_ID overrides its active key
  PREFIX_PRIVATE_KEY      legacy single-key mode (with PREFIX_KEY_ID), when PREFIX_KEYS_JSON is not set
  PREFIX_PUBLIC_KEY       the write side (with PREFIX_KEY_ID), checked against the registry when set";

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
    #[command(after_help = REGISTRY_ENVIRONMENT_HELP)]
    Open(OpenArgs),
    /// Re-wrap an envelope's data key under the active key; the ciphertext is not changed. A KV
    /// record's ciphertext (and an object body given with `--body`) must authenticate first.
    #[command(after_help = REGISTRY_ENVIRONMENT_HELP)]
    Rewrap(RewrapArgs),
    /// Key-registry operator jobs.
    #[command(subcommand)]
    Registry(RegistryCommand),
}

/// `sealkit envelope registry …`
#[derive(clap::Subcommand)]
pub enum RegistryCommand {
    /// Generate a key, append it to the registry and make it active (nested form). A registry
    /// with no usable key is refused, not replaced.
    #[command(after_help = REGISTRY_ENVIRONMENT_HELP)]
    Rotate(RotateArgs),
    /// Parse and check a registry (every key, the active key, and the write-side public key).
    #[command(after_help = REGISTRY_ENVIRONMENT_HELP)]
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
    /// Write the private key to this new file (mode 0600) instead of stdout; an existing file is
    /// never replaced.
    #[arg(long)]
    private_key_out: Option<PathBuf>,
    /// Write the public key to this new file instead of stdout; an existing file is never
    /// replaced.
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
    /// Registry JSON file to update, or to create when it does not exist (the only way to start a
    /// new registry). Without it the scope's environment (`PREFIX_KEYS_JSON`, or
    /// `PREFIX_PRIVATE_KEY` with `PREFIX_KEY_ID`; PREFIX as below) must hold at least one key, and
    /// the result is printed in `.env` form.
    #[arg(long)]
    registry: Option<PathBuf>,
    /// Key scope (names the `.env` variables).
    #[arg(long, default_value = "data-at-rest")]
    scope: String,
    /// RSA modulus size of the new key.
    #[arg(long, default_value_t = 2048, value_parser = parse_bits)]
    bits: usize,
    /// Print the escaped single-line `.env` form (`PREFIX_KEYS_JSON='…'` and friends).
    #[arg(long, conflicts_with = "json")]
    env: bool,
    /// Print `{keyId, activeKeyId, keyIds, publicKeyPem}` as JSON (with `--registry`: without
    /// one, the new registry itself must be printed, in `.env` form).
    #[arg(long, requires = "registry")]
    json: bool,
    /// Also write the new public key to this file (which must not exist).
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

/// A `--public-key` file that gives no sealer: the library's message, the file it came from, and,
/// when the file holds a private key (the likeliest slip), which file to pass instead.
fn public_key_error(error: env::Error, path: &Path, pem: &str) -> CliError {
    if error.code() != "invalid_public_key" {
        return fail(error);
    }
    let hint = if pem.contains("PRIVATE KEY-----") {
        ": it holds a private key; pass the public one (`envelope keygen --public-key-out`)"
    } else {
        ""
    };
    CliError::new(
        error.code(),
        format!("--public-key {}: {error}{hint}", path.display()),
    )
}

/// A failed open or rewrap. The library's message keeps the attempt count and the last cause from
/// callers (they describe the registry); the person running this command is the operator they are
/// kept for, and the reference's error names both.
fn fail_decryption(error: env::Error) -> CliError {
    let Some(attempts) = error.attempts() else {
        return fail(error);
    };
    // With an attempt bound, fewer keys may have been tried than the registry holds.
    let tried = match (attempts, error.last_cause()) {
        (0, _) => "no candidate key was tried (see --max-attempts)".to_owned(),
        (n, Some(cause)) => {
            format!("{n} candidate key(s) tried, none opened it (last cause: {cause})")
        }
        (n, None) => format!("{n} candidate key(s) tried, none opened it"),
    };
    CliError::new(error.code(), format_args!("{error}: {tried}"))
}

/// The error names the flag, not the value: what was typed may be a key pasted into the wrong
/// flag (the usage errors clap raises are screened the same way in `main`).
fn parse_scope(text: &str) -> Result<Scope, CliError> {
    Scope::parse(text).ok_or_else(|| {
        CliError::usage("unknown --scope value: use data-at-rest, user-kv or export")
    })
}

fn utf8_file(path: &Path, secret: bool) -> Result<Zeroizing<String>, CliError> {
    let mut bytes = if secret {
        io::read_secret_file(path)?
    } else {
        Zeroizing::new(io::read_file(path)?)
    };
    // Checked in place, then moved into the string: no second copy of a private key exists, and
    // none is left inside an error to be dropped unwiped.
    if std::str::from_utf8(&bytes).is_err() {
        return Err(CliError::new(
            "invalid_input",
            format!("{} is not UTF-8 text", path.display()),
        ));
    }
    let text = String::from_utf8(std::mem::take(&mut *bytes))
        .map_err(|_| CliError::new("internal", "UTF-8 text stopped being UTF-8"))?;
    Ok(Zeroizing::new(text))
}

/// Stages `--public-key-out`, when given, as a new file readable by others.
fn stage_public_key<'a>(
    path: Option<&Path>,
    pair: &'a env::GeneratedKeyPair,
) -> Result<Option<NewFile<'a>>, CliError> {
    path.map(|path| NewFile::stage(path, pair.public_key_pem.as_bytes(), Access::Shared))
        .transpose()
}

fn keygen(args: KeygenArgs) -> CliResult {
    if let (Some(private), Some(public)) = (&args.private_key_out, &args.public_key_out)
        && output::same_destination(private, public)
    {
        return Err(CliError::usage(
            "--private-key-out and --public-key-out name the same file",
        ));
    }
    let pair = env::generate_key_pair(args.bits).map_err(fail)?;
    // Both files are complete before either appears, and both are removed again if anything
    // later fails: a failed keygen leaves no key behind whose id was never shown.
    let staged_private = args
        .private_key_out
        .as_deref()
        .map(|path| NewFile::stage(path, pair.private_key_pem.as_bytes(), Access::Private))
        .transpose()?;
    let staged_public = stage_public_key(args.public_key_out.as_deref(), &pair)?;
    let private_file = staged_private.map(NewFile::publish).transpose()?;
    let public_file = staged_public.map(NewFile::publish).transpose()?;
    if args.json {
        let mut fields = vec![("keyId", pair.key_id.as_str())];
        if args.private_key_out.is_none() {
            fields.push(("privateKeyPem", pair.private_key_pem.as_str()));
        }
        fields.push(("publicKeyPem", pair.public_key_pem.as_str()));
        io::print_line(&json_object(&fields))?;
    } else {
        io::print_line(&pair.key_id)?;
        if args.private_key_out.is_none() {
            io::write_stdout(pair.private_key_pem.as_bytes())?;
        }
        if args.public_key_out.is_none() {
            io::write_stdout(pair.public_key_pem.as_bytes())?;
        }
    }
    output::keep_all([private_file, public_file]);
    Ok(ExitCode::SUCCESS)
}

/// A flat JSON object of string fields, built in one wiped buffer sized up front: the values may
/// be private keys, and a growing buffer would leave unwiped copies behind.
fn json_object(fields: &[(&str, &str)]) -> Zeroizing<String> {
    // The longest escape (`\u001f`) is six characters for one byte.
    let capacity = 2 + fields
        .iter()
        .map(|(name, value)| 6 * (name.len() + value.len()) + 6)
        .sum::<usize>();
    let mut text = Zeroizing::new(String::with_capacity(capacity));
    text.push('{');
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        push_json_string(&mut text, name);
        text.push(':');
        push_json_string(&mut text, value);
    }
    text.push('}');
    text
}

/// Appends `value` as a JSON string literal, escaped as `serde_json` escapes it.
fn push_json_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let b = u32::from(c) as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[b >> 4]));
                out.push(char::from(HEX[b & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn seal(args: SealArgs) -> CliResult {
    let pem = utf8_file(&args.public_key, false)?;
    let mut sealer = Sealer::from_public_key_pem(&args.key_id, &pem)
        .map_err(|e| public_key_error(e, &args.public_key, &pem))?;
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
    // The metadata holds the wrapped data key: the body replaces an old one only once the
    // metadata is out, so a failed seal never leaves a body that nothing can decrypt.
    let body = Replacement::stage(body_out, &object.body, Access::Shared)?;
    io::print_line(&object.metadata.to_json())?;
    body.publish()?;
    Ok(ExitCode::SUCCESS)
}

fn load_registry(scope: Scope, file: Option<&Path>) -> Result<KeyRegistry, CliError> {
    match file {
        Some(path) => {
            let json = utf8_file(path, true)?;
            KeyRegistry::from_json(scope, &json, None).map_err(fail)
        }
        None => KeyRegistry::from_env(scope).map_err(|error| match error {
            env::Error::RegistryNotConfigured { .. } => not_configured(scope, ""),
            other => fail(other),
        }),
    }
}

/// `registry_not_configured`, naming the variables to set (names only: their values are secret).
fn not_configured(scope: Scope, more: &str) -> CliError {
    let error = env::Error::RegistryNotConfigured {
        scope: scope.label(),
    };
    CliError::new(
        error.code(),
        format!(
            "{error} (set {p}_KEYS_JSON, or {p}_PRIVATE_KEY with {p}_KEY_ID, or pass --registry FILE{more})",
            p = scope.env_prefix()
        ),
    )
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

/// Object metadata from a file, and the file's text (rewrap hands back its other fields).
fn read_metadata(path: &Path) -> Result<(EnvelopeMetadata, Zeroizing<String>), CliError> {
    let text = utf8_file(path, false)?;
    let metadata = EnvelopeMetadata::from_json(&text).map_err(fail)?;
    Ok((metadata, text))
}

/// Rewrapped object metadata as the JSON to store back: the five envelope fields in the
/// reference's order, then every other member of the original, in its order and exactly as written
/// (numbers are not reformatted, strings not re-escaped). Striae keeps an object's `contentType`,
/// `originalFilename`, `byteLength`, `createdAt` and `fileKind` in the same custom metadata as its
/// envelope, so printing the envelope alone would have the operator who writes it back drop them.
fn rewrapped_metadata_json(
    original: &str,
    rewrapped: &EnvelopeMetadata,
) -> Result<String, CliError> {
    let envelope_fields = match serde_json::to_value(rewrapped) {
        Ok(serde_json::Value::Object(fields)) => fields,
        _ => unreachable!("envelope metadata serializes to a JSON object"),
    };
    // Refused rather than dropped: a member this cannot read back (a name that is not valid
    // Unicode, say) would otherwise vanish from metadata the operator writes back.
    let members = serde_json::from_str::<OrderedMembers>(original).map_err(|_| {
        CliError::new(
            "metadata_unreadable",
            "the metadata's other fields could not be read back to carry them over; nothing was printed",
        )
    })?;
    let mut json = rewrapped.to_json();
    json.pop(); // the closing brace
    for (name, value) in &members.0 {
        if !envelope_fields.contains_key(name) {
            json.push(',');
            json.push_str(&serde_json::Value::String(name.clone()).to_string());
            json.push(':');
            json.push_str(value.get());
        }
    }
    json.push('}');
    Ok(json)
}

/// A JSON object's members in the order written, each value as its raw text.
struct OrderedMembers(Vec<(String, Box<serde_json::value::RawValue>)>);

impl<'de> serde::Deserialize<'de> for OrderedMembers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = OrderedMembers;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<OrderedMembers, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(OrderedMembers(members))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

fn open(args: OpenArgs) -> CliResult {
    let opener = opener(&args)?;
    let context = args.context.as_bytes();
    let opened = match &args.metadata {
        Some(path) => {
            let (metadata, _) = read_metadata(path)?;
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
    .map_err(fail_decryption)?;
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
            let (metadata, text) = read_metadata(path)?;
            let (rewrapped, telemetry) = match &body {
                Some(body) => opener.rewrap_checked(&metadata, &io::read_file(body)?, context),
                None => opener.rewrap(&metadata, context),
            }
            .map_err(fail_decryption)?;
            (rewrapped_metadata_json(&text, &rewrapped)?, telemetry)
        }
        None => {
            let record = io::read_stdin()?;
            let record =
                std::str::from_utf8(&record).map_err(|_| fail(env::Error::NotAnEnvelope))?;
            opener.rewrap_kv(record, context).map_err(fail_decryption)?
        }
    };
    io::print_line(&output)?;
    eprintln!("{}", telemetry.to_json());
    Ok(ExitCode::SUCCESS)
}

/// The registry document for rotation: from the file (empty only if it does not exist yet) or from
/// the scope's environment (registry JSON, or the legacy single key converted to the nested form).
///
/// Rotation writes back the registry it read plus the new key, so a source that yields no usable
/// key is refused, never rotated: it is almost always a misconfiguration (a variable not exported,
/// a mistyped `keys`, ids mapped to objects instead of PEMs), and rotating it would replace the
/// operator's keys with a registry holding only the new one. The one way to start a new registry
/// is a `--registry` file that does not exist.
fn rotation_source(scope: Scope, file: Option<&Path>) -> Result<RegistryDocument, CliError> {
    // The registry to add the new key to: parsed, and refused when it holds no usable key (there
    // is nothing to rotate; almost always a misconfiguration) or when writing it back would drop
    // what the parser skipped (as the reference does, and as opening does). Skipped members are
    // named by count only: a misplaced member's name could be a private key.
    let rotatable = |json: &str, origin: &str| -> Result<RegistryDocument, CliError> {
        let doc = RegistryDocument::parse(scope, json).map_err(fail)?;
        if doc.keys.is_empty() {
            let error = env::Error::RegistryNoUsableKeys {
                scope: scope.label(),
            };
            return Err(CliError::new(
                error.code(),
                format!(
                    "{error} (read from {origin}); nothing was changed: rotate adds a key to the \
                     keys already there, and starts a new registry only in a --registry FILE that \
                     does not exist yet"
                ),
            ));
        }
        match doc.skipped_members() {
            0 => Ok(doc),
            n => Err(CliError::new(
                "registry_members_skipped",
                format!(
                    "{n} member(s) of the registry in {origin} are not keys rotate can carry over \
                     (values that are not PEM strings, blank ids or keys, keys a later entry with \
                     the same id overrides, or members beside activeKeyId and keys) and would be \
                     dropped; nothing was changed: fix or remove them first"
                ),
            )),
        }
    };
    if let Some(path) = file {
        // "Missing" is decided exactly as the write decides it (`Replacement::stage`): only
        // `NotFound` starts a new registry. Any other failure to look (permissions, I/O) must
        // not pass for a first key.
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(RegistryDocument::default());
            }
            Err(e) => return Err(CliError::io(&format!("reading {}", path.display()), e)),
            Ok(_) => {}
        }
        let json = utf8_file(path, true)?;
        return rotatable(&json, &path.display().to_string());
    }
    let env = ProcessEnv;
    if let Some(json) = env.non_blank(&scope.var("KEYS_JSON")) {
        let json = Zeroizing::new(json);
        let mut doc = rotatable(&json, &scope.var("KEYS_JSON"))?;
        if let Some(active) = env.non_blank(&scope.var("ACTIVE_KEY_ID")) {
            doc.active_key_id = Some(js_trim(&active).to_owned());
        }
        return Ok(doc);
    }
    let Some(pem) = env.non_blank(&scope.var("PRIVATE_KEY")) else {
        return Err(not_configured(
            scope,
            "; a new registry is started only in a --registry FILE that does not exist yet",
        ));
    };
    let pem = Zeroizing::new(pem);
    let key_id = env.non_blank(&scope.var("KEY_ID")).ok_or_else(|| {
        fail(env::Error::LegacyKeyIdMissing {
            scope: scope.label(),
        })
    })?;
    let mut doc = RegistryDocument::default();
    let normalized = env::keys::normalize_pem(&pem);
    // The library's message names no variable (a document has no scope): say which one.
    doc.rotate_in(js_trim(&key_id), &normalized).map_err(|e| {
        let variable = match e {
            env::Error::InvalidKeyId { .. } => scope.var("KEY_ID"),
            _ => scope.var("PRIVATE_KEY"),
        };
        CliError::new(e.code(), format!("{variable}: {e}"))
    })?;
    Ok(doc)
}

/// `NAME='value'` for a `.env` file; values holding a single quote cannot be written this way.
/// Built in a buffer sized up front: the value may be a whole registry of private keys.
fn env_line(name: &str, value: &str) -> Result<Zeroizing<String>, CliError> {
    if value.contains('\'') || value.contains('\n') {
        return Err(CliError::new(
            "unsupported_value",
            format!("{name} cannot be written as a single-quoted .env line"),
        ));
    }
    let mut line = Zeroizing::new(String::with_capacity(name.len() + value.len() + 3));
    line.push_str(name);
    line.push_str("='");
    line.push_str(value);
    line.push('\'');
    Ok(line)
}

fn rotate(args: RotateArgs) -> CliResult {
    let scope = parse_scope(&args.scope)?;
    if let (Some(registry), Some(public)) = (&args.registry, &args.public_key_out)
        && output::same_destination(registry, public)
    {
        return Err(CliError::usage(
            "--registry and --public-key-out name the same file",
        ));
    }
    let mut doc = rotation_source(scope, args.registry.as_deref())?;
    let pair = env::generate_key_pair(args.bits).map_err(fail)?;
    doc.rotate_in(&pair.key_id, &pair.private_key_pem)
        .map_err(fail)?;
    // Refuse to write a registry that would not load (e.g. a broken existing entry).
    let registry = KeyRegistry::from_document(scope, &doc, None).map_err(fail)?;
    let json = doc.to_nested_json();
    // Every output is ready before anything is written, so a value the `.env` form cannot hold
    // fails with nothing changed.
    let output = if args.env || args.registry.is_none() {
        let public_escaped = pair.public_key_pem.replace('\n', "\\n");
        let lines = [
            env_line(&scope.var("KEYS_JSON"), &json)?,
            env_line(&scope.var("ACTIVE_KEY_ID"), &pair.key_id)?,
            env_line(&scope.var("KEY_ID"), &pair.key_id)?,
            env_line(&scope.var("PUBLIC_KEY"), &public_escaped)?,
        ];
        let mut text = Zeroizing::new(String::with_capacity(
            lines.iter().map(|line| line.len() + 1).sum(),
        ));
        for line in &lines {
            text.push_str(line);
            text.push('\n');
        }
        text
    } else if args.json {
        let out = json!({
            "keyId": pair.key_id,
            "activeKeyId": registry.active_key_id(),
            "keyIds": registry.key_ids().collect::<Vec<_>>(),
            "publicKeyPem": pair.public_key_pem,
        });
        Zeroizing::new(format!("{out}\n"))
    } else {
        Zeroizing::new(format!("{}\n", pair.key_id))
    };
    let staged_public = stage_public_key(args.public_key_out.as_deref(), &pair)?;
    let staged_registry = args
        .registry
        .as_deref()
        .map(|path| Replacement::stage(path, json.as_bytes(), Access::Private))
        .transpose()?;
    let public_file = staged_public.map(NewFile::publish).transpose()?;
    io::write_stdout(output.as_bytes())?;
    // Last, as the one step that cannot be undone: until here the old registry is untouched.
    if let Some(registry) = staged_registry {
        registry.publish()?;
    }
    output::keep_all([public_file]);
    Ok(ExitCode::SUCCESS)
}

fn validate(args: ValidateArgs) -> CliResult {
    let scope = parse_scope(&args.scope)?;
    let registry = load_registry(scope, args.registry.as_deref())?;
    let mut write_key = None;
    if let (Some(path), Some(key_id)) = (&args.public_key, &args.key_id) {
        let pem = utf8_file(path, false)?;
        let sealer = Sealer::from_public_key_pem(key_id, &pem)
            .map_err(|e| public_key_error(e, path, &pem))?;
        registry.validate_write_key(&sealer).map_err(fail)?;
        write_key = Some(key_id.clone());
    } else if args.registry.is_none() && ProcessEnv.non_blank(&scope.var("PUBLIC_KEY")).is_some() {
        // KeyRegistry::from_env already checked the environment's write side.
        write_key = ProcessEnv
            .non_blank(&scope.var("KEY_ID"))
            .map(|k| js_trim(&k).to_owned());
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

    /// Built by hand to keep private keys in wiped buffers, the JSON must be exactly what
    /// `serde_json` writes, for every character a PEM or key id could hold and then some.
    #[test]
    fn hand_built_json_is_what_serde_json_writes() {
        let mut awkward: String = (0u32..0x80).filter_map(char::from_u32).collect();
        awkward.push_str("é\u{2028}\u{2029}\u{7f}\u{fffd}😀");
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIE\"\\/\n-----END PRIVATE KEY-----\n";
        for value in [awkward.as_str(), pem, "", "plain"] {
            let ours = json_object(&[("keyId", "k1"), ("privateKeyPem", value)]);
            let theirs = serde_json::json!({"keyId": "k1", "privateKeyPem": value}).to_string();
            assert_eq!(ours.as_str(), theirs, "{value:?}");
            assert!(ours.capacity() >= ours.len());
        }
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
