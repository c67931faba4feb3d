//! The example of seeds/001 (S2's access-control announcement), end to end: an agent token scoped
//! to `session/g7wrzr9t/` with `list-streams` and `append`, auto-prefixed, that may append to
//! `console` but not delete it, and that lists its streams with the prefix stripped.

mod common;

use common::{SEED_AGENT_REQUEST, fixture};
use sealkit_token::{DenialReason, Issuer, OpRequest, Operation, TokenError};

const BASIN: &str = "browser-instances-wtvr";

#[test]
fn agent_token_from_the_seed_example() {
    let f = fixture();
    // "you will need an existing access token, which was perhaps issued from the dashboard"
    let dashboard = f.root(
        r#"{"id": "dashboard-admin", "scope": {"basins": {"prefix": ""}, "streams": {"prefix": ""},
            "access_tokens": {"prefix": ""},
            "op_groups": {"account": {"read": true, "write": true}, "basin": {"read": true, "write": true},
                          "stream": {"read": true, "write": true}}}}"#,
    );
    // The request body of the blog's curl call, verbatim.
    let agent = f.from(&dashboard, SEED_AGENT_REQUEST).unwrap();

    // s2 ls browser-instances-wtvr: only its own streams, prefix stripped.
    let listing = f
        .authority
        .authorize(&agent, &OpRequest::new(Operation::ListStreams).basin(BASIN))
        .unwrap();
    assert_eq!(listing.effective_stream(), None);
    let verified = f.authority.verify(&agent).unwrap();
    let all_streams = [
        "session/g7wrzr9t/console",
        "session/g7wrzr9t/dom-events",
        "session/g7wrzr9t/telemetry",
        "session/rhc2q95x/console",
    ];
    assert_eq!(
        verified.filter_streams(all_streams),
        ["console", "dom-events", "telemetry"]
    );
    assert_eq!(verified.stream_list_prefix(""), "session/g7wrzr9t/");

    // POST /v1/streams/console/records is allowed, on the prefixed stream.
    let append = OpRequest::new(Operation::Append)
        .basin(BASIN)
        .stream("console");
    let allowed = f.authority.authorize(&agent, &append).unwrap();
    assert_eq!(allowed.effective_stream(), Some("session/g7wrzr9t/console"));

    // DELETE /v1/streams/console is 403 {"message":"Operation not permitted"}.
    let delete = OpRequest::new(Operation::DeleteStream)
        .basin(BASIN)
        .stream("console");
    let err = f.authority.authorize(&agent, &delete).unwrap_err();
    assert_eq!(
        err,
        TokenError::PermissionDenied {
            reason: DenialReason::Operation
        }
    );
    assert_eq!(
        (err.http_status(), err.to_string().as_str()),
        (403, "Operation not permitted")
    );

    // Other basins, and trimming or fencing its own streams, are out of reach too.
    let other_basin = OpRequest::new(Operation::Append)
        .basin("other-basin")
        .stream("console");
    assert_eq!(
        f.authority
            .authorize(&agent, &other_basin)
            .unwrap_err()
            .http_status(),
        403
    );
    assert_eq!(
        f.authority
            .authorize(&agent, &append.also(Operation::Trim))
            .unwrap_err()
            .http_status(),
        403
    );

    // It expires at 2025-06-04T08:00:00Z (plus the skew allowance).
    f.clock
        .set(1_749_024_000 + sealkit_token::DEFAULT_CLOCK_SKEW_SECS);
    assert_eq!(
        f.authority.authorize(&agent, &append).unwrap_err(),
        TokenError::Expired
    );
}

#[test]
fn revoking_the_dashboard_token_cuts_off_the_agent() {
    let f = fixture();
    let admin = f.root(
        r#"{"id": "admin", "scope": {"basins": {"prefix": ""}, "streams": {"prefix": ""},
            "access_tokens": {"prefix": "agent/"}, "ops": ["issue-access-token", "list-streams", "append"]}}"#,
    );
    let agent = f
        .from(
            &admin,
            r#"{"id": "agent/g7wrzr9t", "auto_prefix_streams": true,
                "scope": {"basins": {"exact": "browser-instances-wtvr"}, "ops": ["list-streams", "append"],
                          "streams": {"prefix": "session/g7wrzr9t/"}}}"#,
        )
        .unwrap();
    let append = OpRequest::new(Operation::Append)
        .basin(BASIN)
        .stream("console");
    let allowed = f.authority.authorize(&agent, &append).unwrap();
    assert_eq!(allowed.effective_stream(), Some("session/g7wrzr9t/console"));
    f.authority.revoke(Issuer::Root, "admin").unwrap();
    assert_eq!(
        f.authority.authorize(&agent, &append).unwrap_err(),
        TokenError::Revoked
    );
}
