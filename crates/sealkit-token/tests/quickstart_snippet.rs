//! The token part of `examples/quickstart.rs`, kept compiling against this crate's API.

// Stands in for the `sealkit` facade, which re-exports this crate as `sealkit::token`.
mod sealkit {
    pub use ::sealkit_token as token;
}

/// sealkit-token: a scoped, auto-prefixed token for one agent, checked on every request.
fn token() -> Result<(), Box<dyn std::error::Error>> {
    use sealkit::token::{
        IssueRequest, Issuer, OpRequest, Operation, ServerKey, TokenAuthority, TokenKeyring,
    };
    println!("== sealkit-token: scoped access tokens");
    // The server key comes from `sealkit keygen`; its id travels in every token so it can rotate.
    let authority = TokenAuthority::new(TokenKeyring::new("k1", &ServerKey::generate())?);
    // S2's issue request, verbatim: the agent sees only its own streams, without their prefix.
    let request = IssueRequest::from_json(
        br#"{"id": "agent/g7wrzr9t", "auto_prefix_streams": true,
        "scope": {"basins": {"exact": "browser-instances-wtvr"}, "ops": ["list-streams", "append"],
                  "streams": {"prefix": "session/g7wrzr9t/"}}}"#,
    )?;
    let issued = authority.issue(Issuer::Root, &request)?;
    let token = issued.token.expose_secret(); // hand this to the agent, never log it
    let basin = "browser-instances-wtvr";
    let append = OpRequest::new(Operation::Append)
        .basin(basin)
        .stream("console");
    let allowed = authority.authorize(token, &append)?;
    println!("append -> {:?}", allowed.effective_stream());
    // Auto-prefixed: the agent names `console`, the server touches its namespaced stream.
    assert_eq!(allowed.effective_stream(), Some("session/g7wrzr9t/console"));
    let delete = OpRequest::new(Operation::DeleteStream)
        .basin(basin)
        .stream("console");
    let denied = authority.authorize(token, &delete).unwrap_err();
    println!(
        "delete -> {} ({}): {denied}",
        denied.code(),
        denied.http_status()
    );
    assert_eq!(
        (denied.code(), denied.http_status()),
        ("permission_denied", 403)
    );
    authority.revoke(Issuer::Root, "agent/g7wrzr9t")?;
    let revoked = authority.verify(token).unwrap_err();
    println!("after revocation -> {}", revoked.code());
    assert_eq!(revoked.code(), "authn");
    Ok(())
}

#[test]
fn quickstart_token_section_runs() {
    token().unwrap();
}
