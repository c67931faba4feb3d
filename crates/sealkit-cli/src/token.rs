//! `sealkit token …`: issue, verify and authorize scoped access tokens.
//!
//! The server key (32 bytes, standard base64) comes from `SEALKIT_TOKEN_KEY`; keys being rotated
//! out from `SEALKIT_TOKEN_PREVIOUS_KEYS` (`id=base64` entries separated by commas or whitespace;
//! `id=base64@2027-01-31T00:00:00Z` retires the key at that RFC 3339 time).
//! The token to check comes from `S2_ACCESS_TOKEN`, an issuing token from a file: never from a flag
//! value.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use sealkit::token::{
    InMemoryRevocationSet, IssueRequest, Issuer, OpRequest, Operation, ServerKey, TokenAuthority,
    TokenError, TokenInfo, TokenKeyring,
};
use zeroize::Zeroizing;

use crate::failure::{CliError, CliResult};
use crate::io;

const KEY_ENV: &str = "SEALKIT_TOKEN_KEY";
const PREVIOUS_KEYS_ENV: &str = "SEALKIT_TOKEN_PREVIOUS_KEYS";
const TOKEN_ENV: &str = "S2_ACCESS_TOKEN";

/// What every token subcommand reads from the environment (shown under `--help`).
const ENVIRONMENT_HELP: &str = "Environment:
  SEALKIT_TOKEN_KEY            the server key: 32 bytes in standard base64 (`sealkit keygen`)
  SEALKIT_TOKEN_PREVIOUS_KEYS  keys being rotated out, still opening their tokens: id=base64 entries
                               separated by commas or whitespace; id=base64@2027-01-31T00:00:00Z
                               retires that key at that RFC 3339 time
  S2_ACCESS_TOKEN              the token to verify or authorize";

/// Subcommands of `sealkit token`.
#[derive(clap::Subcommand)]
#[command(after_help = ENVIRONMENT_HELP)]
pub enum Command {
    /// Issue a token from the reference's JSON issue request on stdin; prints the token.
    #[command(after_help = ENVIRONMENT_HELP)]
    Issue(IssueArgs),
    /// Verify the token in S2_ACCESS_TOKEN; prints its id, scope and expiry as JSON (and
    /// valid_until: the expiry, or its key's retirement if earlier).
    #[command(after_help = ENVIRONMENT_HELP)]
    Verify(VerifyArgs),
    /// Check one request against the token in S2_ACCESS_TOKEN; prints the effective stream name.
    #[command(after_help = ENVIRONMENT_HELP)]
    Authorize(AuthorizeArgs),
}

/// Which server key seals and opens tokens.
#[derive(clap::Args)]
pub struct KeyArgs {
    /// Id of the key in SEALKIT_TOKEN_KEY (1 to 16 ASCII letters or digits); it travels in every
    /// token so keys can rotate.
    #[arg(long, value_name = "ID", default_value = "k1")]
    key_id: String,
}

/// `issue` flags.
#[derive(clap::Args)]
pub struct IssueArgs {
    #[command(flatten)]
    key: KeyArgs,
    /// Issue from the token in this file (bounded by its scope, its expiry and the retirement of
    /// its key) instead of as the root authority.
    #[arg(long, value_name = "FILE")]
    issuer_token_file: Option<PathBuf>,
    /// Revoked token ids, one per line, each as written and trimmed (checked against the issuing
    /// token).
    #[arg(long, value_name = "FILE")]
    revoked_file: Option<PathBuf>,
}

/// `verify` flags.
#[derive(clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    key: KeyArgs,
    /// Revoked token ids, one per line, each as written and trimmed.
    #[arg(long, value_name = "FILE")]
    revoked_file: Option<PathBuf>,
}

/// `authorize` flags.
#[derive(clap::Args)]
pub struct AuthorizeArgs {
    #[command(flatten)]
    key: KeyArgs,
    /// The operation, by its kebab-case name (e.g. append, read, list-streams).
    #[arg(long, value_name = "OP")]
    op: Operation,
    /// Further operations the same request performs (e.g. --also trim for an append carrying a
    /// trim command record); all must be granted.
    #[arg(long, value_name = "OP")]
    also: Vec<Operation>,
    /// The basin the request touches.
    #[arg(long)]
    basin: Option<String>,
    /// The stream the request touches, as the token holder names it.
    #[arg(long)]
    stream: Option<String>,
    /// The access token id the request touches (issue / revoke).
    #[arg(long, value_name = "ID")]
    access_token_id: Option<String>,
    /// Revoked token ids, one per line, each as written and trimmed.
    #[arg(long, value_name = "FILE")]
    revoked_file: Option<PathBuf>,
}

/// Runs one subcommand.
pub fn run(command: Command) -> CliResult {
    match command {
        Command::Issue(args) => {
            let authority = authority(&args.key, args.revoked_file.as_deref())?;
            let issuer_token = match &args.issuer_token_file {
                Some(path) => Some(read_token_file(path)?),
                None => None,
            };
            let issuer = match &issuer_token {
                Some(token) => Issuer::Token(token),
                None => Issuer::Root,
            };
            let issuer_source = args
                .issuer_token_file
                .as_ref()
                .map(|path| path.display().to_string())
                .unwrap_or_default();
            // Who is asking comes first (401), then what they sent (422), as in the library and
            // in S2: the request is parsed only for an issuer token that verifies.
            if let Issuer::Token(token) = issuer {
                authority
                    .verify(token)
                    .map_err(|e| refused(e, &issuer_source))?;
            }
            let request = IssueRequest::from_json(&io::read_stdin()?).map_err(token_error)?;
            let issued = authority
                .issue(issuer, &request)
                .map_err(|e| refused(e, &issuer_source))?;
            let mut line = Zeroizing::new(String::with_capacity(
                issued.token.expose_secret().len() + 1,
            ));
            line.push_str(issued.token.expose_secret());
            line.push('\n');
            io::write_stdout(line.as_bytes())?;
        }
        Command::Verify(args) => {
            let authority = authority(&args.key, args.revoked_file.as_deref())?;
            let verified = authority
                .verify(&token_from_env()?)
                .map_err(|e| refused(e, TOKEN_ENV))?;
            let shown = VerifyOutput {
                info: verified.info(),
                valid_until: verified.valid_until(),
            };
            let json = serde_json::to_string(&shown)
                .map_err(|e| CliError::new("internal", format!("encoding the token info: {e}")))?;
            io::print_line(&json)?;
        }
        Command::Authorize(args) => {
            let authority = authority(&args.key, args.revoked_file.as_deref())?;
            let mut request = OpRequest::new(args.op);
            for op in &args.also {
                request = request.also(*op);
            }
            if let Some(basin) = &args.basin {
                request = request.basin(basin);
            }
            if let Some(stream) = &args.stream {
                request = request.stream(stream);
            }
            if let Some(id) = &args.access_token_id {
                request = request.access_token(id);
            }
            let token = token_from_env()?;
            let allowed = authority
                .authorize(&token, &request)
                .map_err(|e| refused(e, TOKEN_ENV))?;
            io::print_line(allowed.effective_stream().unwrap_or(""))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What `verify` prints: the token's metadata and, since a previous key may be retiring, when it
/// actually stops verifying here (its expiry or its key's retirement, whichever comes first).
#[derive(serde::Serialize)]
struct VerifyOutput {
    #[serde(flatten)]
    info: TokenInfo,
    #[serde(with = "time::serde::rfc3339::option")]
    valid_until: Option<time::OffsetDateTime>,
}

fn token_error(error: TokenError) -> CliError {
    CliError::new(error.code(), error)
}

/// A refused token or request, said for the operator. An `authn` failure names where the token
/// came from (`token_source`: the variable or file) and what usually causes it; a denial gives its
/// reason, which a server keeps for its logs and which the operator, holding the server key here,
/// may see. The code is the library's either way.
fn refused(error: TokenError, token_source: &str) -> CliError {
    let hint = match &error {
        TokenError::Malformed => Some("not a sealkit token (those start with sktok1_)"),
        TokenError::UnknownKey => {
            Some("its key id is neither --key-id nor one of SEALKIT_TOKEN_PREVIOUS_KEYS")
        }
        TokenError::Unauthentic => Some("altered, or sealed under another SEALKIT_TOKEN_KEY"),
        _ => None,
    };
    match error {
        TokenError::PermissionDenied { reason } => {
            CliError::new(error.code(), format!("{error} (reason: {reason})"))
        }
        _ if error.code() == "authn" => {
            let mut message = format!("{token_source}: {error}");
            if let Some(hint) = hint {
                message.push_str(": ");
                message.push_str(hint);
            }
            CliError::new(error.code(), message)
        }
        _ => token_error(error),
    }
}

fn authority(key: &KeyArgs, revoked_file: Option<&Path>) -> Result<TokenAuthority, CliError> {
    let server_key = io::env_secret(KEY_ENV).ok_or_else(|| {
        CliError::new(
            "invalid_key",
            format!("{KEY_ENV} is not set (32 random bytes in base64: `sealkit keygen`)"),
        )
    })?;
    let server_key = ServerKey::from_base64(&server_key)
        .map_err(|e| CliError::new(e.code(), format!("{KEY_ENV}: {e}")))?;
    let mut keyring = TokenKeyring::new(&key.key_id, &server_key).map_err(token_error)?;
    if let Some(previous) = io::env_secret(PREVIOUS_KEYS_ENV) {
        // The library names a bad entry by its position, never by its text: an entry written
        // without its id (or with another separator) would otherwise put the key into the message.
        keyring.add_previous_keys(&previous).map_err(|e| match e {
            TokenError::KeyListEntry { entry, problem } => CliError::new(
                e.code(),
                format!("{PREVIOUS_KEYS_ENV} entry {entry}: {problem}"),
            ),
            other => token_error(other),
        })?;
    }
    let mut authority = TokenAuthority::new(keyring);
    if let Some(path) = revoked_file {
        let text = String::from_utf8(io::read_file(path)?)
            .map_err(|_| CliError::new("invalid", format!("{} is not UTF-8", path.display())))?;
        // Every line as written and as trimmed: the file fails closed (see `from_id_lines`).
        authority =
            authority.with_revocations(Arc::new(InMemoryRevocationSet::from_id_lines(&text)));
    }
    Ok(authority)
}

fn token_from_env() -> Result<Zeroizing<String>, CliError> {
    let token = io::env_secret(TOKEN_ENV)
        .ok_or_else(|| CliError::new("authn", format!("{TOKEN_ENV} is not set")))?;
    Ok(Zeroizing::new(token.trim().to_owned()))
}

fn read_token_file(path: &Path) -> Result<Zeroizing<String>, CliError> {
    let bytes = io::read_secret_file(path)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| CliError::new("authn", format!("{} does not hold a token", path.display())))?;
    Ok(Zeroizing::new(text.trim().to_owned()))
}
