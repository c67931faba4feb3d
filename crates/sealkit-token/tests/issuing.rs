//! Issuing from the root and from tokens, expiry, revocation, the token store and listing.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use common::{NOW, fixture, request};
use sealkit_token::{
    DEFAULT_CLOCK_SKEW_SECS, DenialReason, Issuer, OpRequest, Operation, ResourceSet,
    RevocationSet, ServerKey, TokenAuthority, TokenError, TokenKeyring, claims::MAX_CHAIN_DEPTH,
};

const ADMIN: &str = r#"{"id": "admin", "expires_at": "2025-06-05T00:00:00Z",
    "scope": {"basins": {"prefix": "prod-"}, "streams": {"prefix": "app/"},
              "access_tokens": {"prefix": "child"},
              "ops": ["issue-access-token", "read", "append"]}}"#;
const ADMIN_EXPIRY: i64 = 1_749_081_600; // 2025-06-05T00:00:00Z

fn denied(reason: DenialReason) -> TokenError {
    TokenError::PermissionDenied { reason }
}

#[test]
fn root_issues_any_scope_with_no_expiry_by_default() {
    let f = fixture();
    let t = f.root(r#"{"id": "svc", "scope": {"basins": {"prefix": ""}, "ops": ["list-basins"]}}"#);
    let v = f.authority.verify(&t).unwrap();
    assert_eq!(v.id(), "svc");
    assert_eq!(v.claims().expires_at, None);
    assert!(v.claims().chain.is_empty());
    // A permanent token still works in a hundred years.
    f.clock.advance(100 * 365 * 86_400);
    f.authority.verify(&t).unwrap();
}

#[test]
fn narrower_token_issued_from_a_token() {
    let f = fixture();
    let admin = f.root(ADMIN);
    let child = f
        .from(
            &admin,
            r#"{"id": "child-1", "scope": {"basins": {"exact": "prod-eu"}, "streams": {"prefix": "app/x/"}, "ops": ["read"]}}"#,
        )
        .unwrap();
    let v = f.authority.verify(&child).unwrap();
    assert_eq!(v.claims().chain, ["admin"]);
    let allowed = f
        .authority
        .authorize(
            &child,
            &OpRequest::new(Operation::Read)
                .basin("prod-eu")
                .stream("app/x/1"),
        )
        .unwrap();
    assert_eq!(allowed.effective_stream(), Some("app/x/1"));
}

#[test]
fn missing_expiry_inherits_the_issuers() {
    let f = fixture();
    let admin = f.root(ADMIN);
    let child = f
        .from(&admin, r#"{"id": "child", "scope": {"ops": ["read"]}}"#)
        .unwrap();
    assert_eq!(
        f.authority.verify(&child).unwrap().claims().expires_at,
        Some(ADMIN_EXPIRY)
    );
}

#[test]
fn earlier_expiry_is_kept() {
    let f = fixture();
    let admin = f.root(ADMIN);
    let child = f
        .from(
            &admin,
            r#"{"id": "child", "expires_at": "2025-06-04T08:00:00Z", "scope": {"ops": ["read"]}}"#,
        )
        .unwrap();
    assert_eq!(
        f.authority.verify(&child).unwrap().claims().expires_at,
        Some(1_749_024_000)
    );
}

#[test]
fn later_expiry_is_escalation() {
    let f = fixture();
    let admin = f.root(ADMIN);
    let err = f
        .from(
            &admin,
            r#"{"id": "child", "expires_at": "2025-06-05T00:00:01Z", "scope": {"ops": ["read"]}}"#,
        )
        .unwrap_err();
    assert_eq!(err, denied(DenialReason::LaterExpiry));
    assert_eq!(err.http_status(), 403);
}

#[test]
fn past_expiry_is_invalid() {
    let f = fixture();
    let err = f
        .authority
        .issue(
            Issuer::Root,
            &request(
                r#"{"id": "t", "expires_at": "2025-06-03T16:59:59Z", "scope": {"ops": ["read"]}}"#,
            ),
        )
        .unwrap_err();
    assert_eq!(err.code(), "invalid");
}

#[test]
fn escalation_is_denied_for_every_dimension() {
    let f = fixture();
    let admin = f.root(ADMIN);
    let cases = [
        (
            r#"{"id": "child", "scope": {"ops": ["trim"]}}"#,
            DenialReason::BroaderOperations,
        ),
        (
            r#"{"id": "child", "scope": {"op_groups": {"stream": {"read": true}}}}"#,
            DenialReason::BroaderOperations,
        ),
        (
            r#"{"id": "child", "scope": {"basins": {"prefix": "pro"}, "ops": ["read"]}}"#,
            DenialReason::BroaderBasins,
        ),
        (
            r#"{"id": "child", "scope": {"basins": {"exact": "dev-1"}, "ops": ["read"]}}"#,
            DenialReason::BroaderBasins,
        ),
        (
            r#"{"id": "child", "scope": {"streams": {"prefix": ""}, "ops": ["read"]}}"#,
            DenialReason::BroaderStreams,
        ),
        (
            r#"{"id": "child", "scope": {"access_tokens": {"prefix": ""}, "ops": ["read"]}}"#,
            DenialReason::BroaderAccessTokens,
        ),
    ];
    for (json, reason) in cases {
        let err = f.from(&admin, json).unwrap_err();
        assert_eq!(err, denied(reason), "{json}");
        assert_eq!(err.to_string(), "Operation not permitted");
    }
}

#[test]
fn issuing_needs_the_issue_operation_and_an_id_in_scope() {
    let f = fixture();
    let reader =
        f.root(r#"{"id": "reader", "scope": {"access_tokens": {"prefix": ""}, "ops": ["read"]}}"#);
    let err = f
        .from(&reader, r#"{"id": "x", "scope": {"ops": ["read"]}}"#)
        .unwrap_err();
    assert_eq!(err, denied(DenialReason::Operation));
    let admin = f.root(ADMIN);
    let err = f
        .from(&admin, r#"{"id": "other", "scope": {"ops": ["read"]}}"#)
        .unwrap_err();
    assert_eq!(err, denied(DenialReason::AccessToken));
}

#[test]
fn auto_prefixing_issuer_issues_within_its_namespace() {
    let f = fixture();
    let parent = f.root(
        r#"{"id": "tenant", "auto_prefix_streams": true,
            "scope": {"basins": {"prefix": ""}, "streams": {"prefix": "tenant/7/"},
                      "access_tokens": {"prefix": ""}, "ops": ["issue-access-token", "read"]}}"#,
    );
    let child = f
        .from(
            &parent,
            r#"{"id": "user", "auto_prefix_streams": true,
                "scope": {"basins": {"prefix": ""}, "streams": {"prefix": "user/1/"}, "ops": ["read"]}}"#,
        )
        .unwrap();
    let v = f.authority.verify(&child).unwrap();
    assert_eq!(
        v.scope().streams,
        ResourceSet::Prefix("tenant/7/user/1/".into())
    );
    let ok = f
        .authority
        .authorize(
            &child,
            &OpRequest::new(Operation::Read).basin("b").stream("log"),
        )
        .unwrap();
    assert_eq!(ok.effective_stream(), Some("tenant/7/user/1/log"));
    // Dropping the namespace would reveal the naming scheme: escalation.
    let err = f
        .from(
            &parent,
            r#"{"id": "user2", "scope": {"streams": {"prefix": "user/2/"}, "ops": ["read"]}}"#,
        )
        .unwrap_err();
    assert_eq!(err, denied(DenialReason::DropsAutoPrefix));
    // A child that reaches no stream has no names to hide: it may be issued without the
    // namespace (it could not auto-prefix anyway, having no prefix stream scope).
    let metrics = f
        .from(
            &parent,
            r#"{"id": "metrics", "scope": {"basins": {"prefix": ""}, "ops": ["read"]}}"#,
        )
        .unwrap();
    let err = f
        .authority
        .authorize(
            &metrics,
            &OpRequest::new(Operation::Read).basin("b").stream("log"),
        )
        .unwrap_err();
    assert_eq!(err, denied(DenialReason::Stream));
}

#[test]
fn issuing_chain_depth_is_bounded() {
    let f = fixture();
    let scope = r#""scope": {"access_tokens": {"prefix": ""}, "ops": ["issue-access-token"]}"#;
    let mut token = f.root(&format!(r#"{{"id": "t0", {scope}}}"#));
    for depth in 1..=MAX_CHAIN_DEPTH {
        token = f
            .from(&token, &format!(r#"{{"id": "t{depth}", {scope}}}"#))
            .unwrap();
        assert_eq!(
            f.authority.verify(&token).unwrap().claims().chain.len(),
            depth
        );
    }
    let err = f
        .from(&token, &format!(r#"{{"id": "too-deep", {scope}}}"#))
        .unwrap_err();
    assert_eq!(err.code(), "invalid");
}

#[test]
fn expired_token_is_authn_after_the_skew_allowance() {
    let f = fixture();
    let t = f.root(
        r#"{"id": "t", "expires_at": "2025-06-03T18:00:00Z", "scope": {"ops": ["list-basins"]}}"#,
    );
    let expiry = NOW + 3600;
    f.clock.set(expiry + DEFAULT_CLOCK_SKEW_SECS - 1);
    f.authority.verify(&t).unwrap();
    f.clock.set(expiry + DEFAULT_CLOCK_SKEW_SECS);
    let err = f.authority.verify(&t).unwrap_err();
    assert_eq!(
        (err.clone(), err.code(), err.http_status()),
        (TokenError::Expired, "authn", 401)
    );
    let err = f
        .authority
        .authorize(&t, &OpRequest::new(Operation::ListBasins))
        .unwrap_err();
    assert_eq!(err, TokenError::Expired);
}

#[test]
fn expired_issuer_cannot_issue() {
    let f = fixture();
    let admin = f.root(ADMIN);
    let child = r#"{"id": "child", "scope": {"ops": ["read"]}}"#;
    f.clock.set(ADMIN_EXPIRY + DEFAULT_CLOCK_SKEW_SECS);
    assert_eq!(f.from(&admin, child).unwrap_err(), TokenError::Expired);
    // Within the skew allowance the issuer still verifies, but a child would inherit an expiry
    // already past.
    f.clock.set(ADMIN_EXPIRY);
    f.authority.verify(&admin).unwrap();
    assert_eq!(f.from(&admin, child).unwrap_err(), TokenError::Expired);
    f.clock.set(ADMIN_EXPIRY - 1);
    f.from(&admin, child).unwrap();
}

#[test]
fn token_from_the_future_is_refused_beyond_the_skew() {
    let f = fixture();
    let t = f.root(r#"{"id": "t", "scope": {"ops": ["list-basins"]}}"#);
    f.clock.set(NOW - DEFAULT_CLOCK_SKEW_SECS);
    f.authority.verify(&t).unwrap();
    f.clock.set(NOW - DEFAULT_CLOCK_SKEW_SECS - 1);
    assert_eq!(f.authority.verify(&t).unwrap_err(), TokenError::NotYetValid);
}

#[test]
fn revocation_takes_effect_on_the_next_verification() {
    let f = fixture();
    let t = f.root(r#"{"id": "t", "scope": {"ops": ["list-basins"]}}"#);
    f.authority.verify(&t).unwrap();
    f.authority.revoke(Issuer::Root, "t").unwrap();
    let err = f.authority.verify(&t).unwrap_err();
    assert_eq!((err.clone(), err.code()), (TokenError::Revoked, "authn"));
    assert_eq!(
        f.authority
            .authorize(&t, &OpRequest::new(Operation::ListBasins))
            .unwrap_err(),
        TokenError::Revoked
    );
}

#[test]
fn revoking_a_token_revokes_everything_it_issued() {
    let f = fixture();
    let scope =
        r#""scope": {"access_tokens": {"prefix": ""}, "ops": ["issue-access-token", "read"]}"#;
    let a = f.root(&format!(r#"{{"id": "a", {scope}}}"#));
    let b = f.from(&a, &format!(r#"{{"id": "b", {scope}}}"#)).unwrap();
    let c = f.from(&b, &format!(r#"{{"id": "c", {scope}}}"#)).unwrap();
    let sibling = f.root(&format!(r#"{{"id": "s", {scope}}}"#));
    f.authority.revoke(Issuer::Root, "b").unwrap();
    f.authority.verify(&a).unwrap();
    f.authority.verify(&sibling).unwrap();
    assert_eq!(f.authority.verify(&b).unwrap_err(), TokenError::Revoked);
    assert_eq!(f.authority.verify(&c).unwrap_err(), TokenError::Revoked);
    // A revoked token can no longer issue.
    assert_eq!(
        f.from(&c, &format!(r#"{{"id": "d", {scope}}}"#))
            .unwrap_err(),
        TokenError::Revoked
    );
}

#[test]
fn a_revocation_set_answering_one_id_at_a_time_still_covers_the_chain() {
    /// A set that implements only `is_revoked`, relying on the provided `any_revoked`.
    struct OneAtATime(Mutex<HashSet<String>>);

    impl RevocationSet for OneAtATime {
        fn is_revoked(&self, id: &str) -> bool {
            self.0.lock().unwrap().contains(id)
        }

        fn revoke(&self, id: &str) -> Result<bool, TokenError> {
            Ok(self.0.lock().unwrap().insert(id.to_owned()))
        }
    }

    let set = Arc::new(OneAtATime(Mutex::new(HashSet::new())));
    let authority = TokenAuthority::new(TokenKeyring::new("k1", &ServerKey::generate()).unwrap())
        .with_revocations(set.clone());
    let scope =
        r#""scope": {"access_tokens": {"prefix": ""}, "ops": ["issue-access-token", "read"]}"#;
    let issue = |issuer: Issuer<'_>, id: &str| {
        authority
            .issue(issuer, &request(&format!(r#"{{"id": "{id}", {scope}}}"#)))
            .unwrap()
            .token
    };
    let a = issue(Issuer::Root, "a");
    let b = issue(Issuer::Token(a.expose_secret()), "b");
    let c = issue(Issuer::Token(b.expose_secret()), "c");
    authority.verify(c.expose_secret()).unwrap();
    authority.revoke(Issuer::Root, "a").unwrap();
    for token in [&a, &b, &c] {
        assert_eq!(
            authority.verify(token.expose_secret()).unwrap_err(),
            TokenError::Revoked
        );
    }
    assert!(set.any_revoked(&["x", "a"]) && !set.any_revoked(&["x", "y"]));
}

#[test]
fn revoking_an_unknown_id_is_not_found() {
    let f = fixture();
    let err = f
        .authority
        .revoke(Issuer::Root, "never-issued")
        .unwrap_err();
    assert_eq!(
        (err.code(), err.http_status()),
        ("access_token_not_found", 404)
    );
}

/// As in S2, where a request is checked as it is parsed: an invalid id (or an otherwise invalid
/// request) is 422 even from an issuer that could not have issued or revoked it anyway; a valid
/// request outside the issuer's scope is still 403.
#[test]
fn an_invalid_request_is_invalid_before_it_is_denied() {
    let f = fixture();
    let issuer = f.root(
        r#"{"id": "issuer", "scope": {"access_tokens": {"prefix": "agent/"},
            "ops": ["issue-access-token", "revoke-access-token", "read"]}}"#,
    );
    let long = "x".repeat(97);
    for json in [
        r#"{"id": "", "scope": {"ops": ["read"]}}"#.to_owned(),
        format!(r#"{{"id": "{long}", "scope": {{"ops": ["read"]}}}}"#),
        r#"{"id": "..", "scope": {"ops": ["read"]}}"#.to_owned(),
        r#"{"id": "other/1", "scope": {"ops": []}}"#.to_owned(),
        // An expiry already past (NOW is in 2025).
        r#"{"id": "other/1", "expires_at": "2001-01-01T00:00:00Z", "scope": {"ops": ["read"]}}"#
            .to_owned(),
    ] {
        let err = f.from(&issuer, &json).unwrap_err();
        assert_eq!((err.code(), err.http_status()), ("invalid", 422), "{json}");
    }
    assert_eq!(
        f.from(&issuer, r#"{"id": "other/1", "scope": {"ops": ["read"]}}"#)
            .unwrap_err(),
        denied(DenialReason::AccessToken)
    );
    for id in ["", "..", long.as_str()] {
        let err = f.authority.revoke(Issuer::Token(&issuer), id).unwrap_err();
        assert_eq!((err.code(), err.http_status()), ("invalid", 422), "{id:?}");
        // Who is asking comes first: a token that does not verify is 401 whatever it sends.
        let err = f
            .authority
            .revoke(Issuer::Token("sktok1_k1_bogus"), id)
            .unwrap_err();
        assert_eq!((err.code(), err.http_status()), ("authn", 401), "{id:?}");
        let err = f
            .authority
            .issue(
                Issuer::Token("sktok1_k1_bogus"),
                &common::request(r#"{"id": "", "scope": {"ops": ["read"]}}"#),
            )
            .unwrap_err();
        assert_eq!((err.code(), err.http_status()), ("authn", 401));
    }
}

/// As in S2: revoking a token twice is a 404 the second time, with or without a store, and the
/// first revocation stands.
#[test]
fn revoking_an_already_revoked_id_is_not_found() {
    let f = fixture();
    f.root(r#"{"id": "user/1", "scope": {"ops": ["read"]}}"#);
    f.authority.revoke(Issuer::Root, "user/1").unwrap();
    assert_eq!(
        f.authority.revoke(Issuer::Root, "user/1").unwrap_err(),
        TokenError::NotFound
    );
    let storeless = TokenAuthority::new(TokenKeyring::new("k1", &ServerKey::generate()).unwrap());
    storeless.revoke(Issuer::Root, "anyone").unwrap();
    assert_eq!(
        storeless.revoke(Issuer::Root, "anyone").unwrap_err(),
        TokenError::NotFound
    );
}

#[test]
fn revoking_through_a_token_needs_its_permission() {
    let f = fixture();
    f.root(r#"{"id": "user/1", "scope": {"ops": ["read"]}}"#);
    f.root(r#"{"id": "svc/1", "scope": {"ops": ["read"]}}"#);
    let revoker = f.root(r#"{"id": "revoker", "scope": {"access_tokens": {"prefix": "user/"}, "ops": ["revoke-access-token"]}}"#);
    let reader =
        f.root(r#"{"id": "reader", "scope": {"access_tokens": {"prefix": ""}, "ops": ["read"]}}"#);
    assert_eq!(
        f.authority
            .revoke(Issuer::Token(&reader), "user/1")
            .unwrap_err(),
        denied(DenialReason::Operation)
    );
    assert_eq!(
        f.authority
            .revoke(Issuer::Token(&revoker), "svc/1")
            .unwrap_err(),
        denied(DenialReason::AccessToken)
    );
    f.authority
        .revoke(Issuer::Token(&revoker), "user/1")
        .unwrap();
}

#[test]
fn ids_are_unique_in_the_store() {
    let f = fixture();
    f.root(r#"{"id": "dup", "scope": {"ops": ["read"]}}"#);
    let err = f
        .authority
        .issue(
            Issuer::Root,
            &request(r#"{"id": "dup", "scope": {"ops": ["append"]}}"#),
        )
        .unwrap_err();
    assert_eq!(
        (err.code(), err.http_status()),
        ("resource_already_exists", 409)
    );
    // Revoked ids stay taken, so a new token can never inherit an old revocation.
    f.authority.revoke(Issuer::Root, "dup").unwrap();
    assert_eq!(
        f.authority
            .issue(
                Issuer::Root,
                &request(r#"{"id": "dup", "scope": {"ops": ["read"]}}"#)
            )
            .unwrap_err(),
        TokenError::AlreadyExists
    );
}

#[test]
fn listing_shows_live_tokens_in_scope_and_never_the_token() {
    let f = fixture();
    let tokens: Vec<String> = ["user/a", "user/b", "svc/c"]
        .iter()
        .map(|id| {
            f.root(&format!(
                r#"{{"id": "{id}", "scope": {{"ops": ["read"]}}}}"#
            ))
        })
        .collect();
    let lister = f.root(r#"{"id": "lister", "scope": {"access_tokens": {"prefix": "user/"}, "ops": ["list-access-tokens"]}}"#);
    f.authority.revoke(Issuer::Root, "user/b").unwrap();
    let listed = f.authority.list(Issuer::Token(&lister), "").unwrap();
    assert_eq!(
        listed.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["user/a"]
    );
    let all = f.authority.list(Issuer::Root, "").unwrap();
    assert_eq!(
        all.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["lister", "svc/c", "user/a"]
    );
    let json = serde_json::to_string(&all).unwrap();
    let debug = format!("{all:?}");
    for token in tokens.iter().chain([&lister]) {
        assert!(!json.contains(token.as_str()) && !debug.contains(token.as_str()));
    }
    assert!(!json.contains("sktok1_"));
    let reader =
        f.root(r#"{"id": "reader2", "scope": {"access_tokens": {"prefix": ""}, "ops": ["read"]}}"#);
    assert_eq!(
        f.authority.list(Issuer::Token(&reader), "").unwrap_err(),
        denied(DenialReason::Operation)
    );
}

#[test]
fn a_token_lister_sees_only_the_chain_inside_its_scope() {
    let f = fixture();
    let admin = f.root(
        r#"{"id": "ops-admin", "scope": {"access_tokens": {"prefix": ""}, "basins": {"prefix": ""},
            "ops": ["issue-access-token", "list-access-tokens", "read"]}}"#,
    );
    let team = f
        .from(
        &admin,
        r#"{"id": "user/team", "scope": {"access_tokens": {"prefix": "user/"}, "basins": {"prefix": ""},
            "ops": ["issue-access-token", "list-access-tokens", "read"]}}"#,
    )
        .unwrap();
    f.from(
        &team,
        r#"{"id": "user/team/a", "scope": {"basins": {"prefix": ""}, "ops": ["read"]}}"#,
    )
    .unwrap();
    let by_team = f
        .authority
        .list(Issuer::Token(&team), "user/team/")
        .unwrap();
    assert_eq!(by_team.len(), 1);
    assert_eq!(by_team[0].issuing_chain, ["user/team"]);
    // The root and a lister whose scope covers every id see the whole chain.
    for lister in [Issuer::Root, Issuer::Token(&admin)] {
        let listed = f.authority.list(lister, "user/team/").unwrap();
        assert_eq!(listed[0].issuing_chain, ["ops-admin", "user/team"]);
    }
}

/// An auto-prefixing lister sees the stream scopes of the tokens it lists as it wrote them,
/// relative to its namespace, never the namespace itself; a scope reaching outside the namespace
/// shows only the part inside it.
#[test]
fn an_auto_prefixing_lister_sees_stream_scopes_within_its_namespace() {
    let f = fixture();
    let tenant = f.root(
        r#"{"id": "t7", "auto_prefix_streams": true, "scope": {"basins": {"exact": "b"},
            "streams": {"prefix": "tenant/7/"}, "access_tokens": {"prefix": "t7/"},
            "ops": ["issue-access-token", "list-access-tokens", "append"]}}"#,
    );
    for (id, streams) in [
        ("t7/prefix", r#"{"prefix": "u1/"}"#),
        ("t7/all", r#"{"prefix": ""}"#),
    ] {
        f.from(
            &tenant,
            &format!(
                r#"{{"id": "{id}", "auto_prefix_streams": true, "scope": {{"basins": {{"exact": "b"}},
                    "streams": {streams}, "ops": ["append"]}}}}"#
            ),
        )
        .unwrap();
    }
    // Issued by the root: one exact stream inside the namespace (auto-prefixing needs a prefix
    // scope), the others partly or wholly outside it.
    for (id, streams) in [
        ("t7/exact", r#"{"exact": "tenant/7/log"}"#),
        ("t7/wider", r#"{"prefix": "tenant/"}"#),
        ("t7/other", r#"{"prefix": "tenant/8/"}"#),
        ("t7/bare", r#"{"exact": "tenant/7/"}"#),
    ] {
        f.root(&format!(
            r#"{{"id": "{id}", "scope": {{"basins": {{"exact": "b"}}, "streams": {streams},
                "ops": ["append"]}}}}"#
        ));
    }
    let streams_seen = |lister| {
        let mut seen: Vec<(String, ResourceSet)> = f
            .authority
            .list(lister, "t7/")
            .unwrap()
            .into_iter()
            .map(|info| (info.id, info.scope.streams))
            .collect();
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        seen
    };
    let prefix = |p: &str| ResourceSet::Prefix(p.into());
    assert_eq!(
        streams_seen(Issuer::Token(&tenant)),
        [
            ("t7/all".into(), prefix("")),
            ("t7/bare".into(), ResourceSet::None),
            ("t7/exact".into(), ResourceSet::Exact("log".into())),
            ("t7/other".into(), ResourceSet::None),
            ("t7/prefix".into(), prefix("u1/")),
            ("t7/wider".into(), prefix("")),
        ]
    );
    // The root sees what the tokens hold.
    assert_eq!(
        streams_seen(Issuer::Root),
        [
            ("t7/all".into(), prefix("tenant/7/")),
            ("t7/bare".into(), ResourceSet::Exact("tenant/7/".into())),
            ("t7/exact".into(), ResourceSet::Exact("tenant/7/log".into())),
            ("t7/other".into(), prefix("tenant/8/")),
            ("t7/prefix".into(), prefix("tenant/7/u1/")),
            ("t7/wider".into(), prefix("tenant/")),
        ]
    );
}

/// `ResourceSet::Exact("")`, which only code can build, is the empty set everywhere, as
/// `{"exact": ""}` is: it matches nothing, is within any set, and a child asking for it under an
/// issuer with no streams, or under an auto-prefixing issuer, gets no streams (no 403, no
/// namespace, no auto-prefix needed).
#[test]
fn an_exact_empty_name_built_in_code_is_the_empty_set() {
    let empty = ResourceSet::Exact(String::new());
    assert!(!empty.matches(""));
    assert!(empty.is_subset_of(&ResourceSet::None));
    assert!(empty.is_subset_of(&ResourceSet::Exact("s".into())));
    let f = fixture();
    for parent in [
        r#"{"id": "p", "scope": {"basins": {"prefix": ""}, "access_tokens": {"prefix": ""},
            "ops": ["issue-access-token", "read"]}}"#,
        r#"{"id": "p2", "auto_prefix_streams": true, "scope": {"basins": {"prefix": ""},
            "streams": {"prefix": "ns/"}, "access_tokens": {"prefix": ""},
            "ops": ["issue-access-token", "read"]}}"#,
    ] {
        let parent = f.root(parent);
        let mut child =
            request(r#"{"id": "c", "scope": {"basins": {"prefix": ""}, "ops": ["read"]}}"#);
        child.id = format!("c-{}", f.authority.verify(&parent).unwrap().id());
        child.scope.streams = empty.clone();
        let issued = f.authority.issue(Issuer::Token(&parent), &child).unwrap();
        let verified = f.authority.verify(issued.token.expose_secret()).unwrap();
        assert_eq!(verified.scope().streams, ResourceSet::None);
        assert!(!verified.claims().auto_prefix_streams);
    }
}

#[test]
fn token_info_serializes_like_the_reference() {
    let f = fixture();
    let issued = f
        .authority
        .issue(Issuer::Root, &request(r#"{"id": "t", "expires_at": "2025-06-04T08:00:00Z", "scope": {"streams": {"prefix": "p/"}, "ops": ["read"]}}"#))
        .unwrap();
    let json = serde_json::to_value(&issued.info).unwrap();
    assert_eq!(json["id"], "t");
    assert_eq!(json["expires_at"], "2025-06-04T08:00:00Z");
    assert_eq!(json["auto_prefix_streams"], false);
    assert_eq!(
        json["scope"]["streams"],
        serde_json::json!({"prefix": "p/"})
    );
    assert_eq!(json["scope"]["ops"], serde_json::json!(["read"]));
    assert_eq!(json["issued_at"], "2025-06-03T17:00:00Z");
}
