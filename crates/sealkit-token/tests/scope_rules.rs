//! Every rule of the reference's scope model, one named test each.

mod common;

use common::{SEED_AGENT_REQUEST, fixture, request};
use sealkit_token::{
    AccessTokenScope, DenialReason, IssueRequest, OpGroups, OpRequest, OpSet, Operation,
    ResourceSet, TokenError,
};

const BASIN: &str = "browser-instances-wtvr";

fn denied(reason: DenialReason) -> TokenError {
    TokenError::PermissionDenied { reason }
}

fn scope(json: &str) -> AccessTokenScope {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

#[test]
fn exact_resource_set_matches_only_that_name() {
    let set = ResourceSet::Exact("logs".into());
    assert!(set.matches("logs"));
    assert!(!set.matches("logs2"));
    assert!(!set.matches("log"));
    assert!(!set.matches(""));
}

#[test]
fn prefix_resource_set_matches_names_starting_with_it() {
    let set = ResourceSet::Prefix("logs/".into());
    assert!(set.matches("logs/a"));
    assert!(set.matches("logs/"));
    assert!(!set.matches("logs"));
    assert!(!set.matches("other/logs/a"));
}

#[test]
fn empty_prefix_matches_every_name() {
    let s = scope(r#"{"basins": {"prefix": ""}}"#);
    assert_eq!(s.basins, ResourceSet::all());
    assert!(s.basins.matches("anything"));
    assert!(s.basins.matches(""));
}

#[test]
fn empty_exact_matches_nothing() {
    let s = scope(r#"{"basins": {"exact": ""}}"#);
    assert_eq!(s.basins, ResourceSet::None);
    assert!(!s.basins.matches(""));
    assert!(!s.basins.matches("b"));
}

#[test]
fn omitted_or_null_resource_set_matches_nothing() {
    let s = scope(r#"{"basins": null}"#);
    assert_eq!(s.basins, ResourceSet::None);
    assert_eq!(s.streams, ResourceSet::None);
    assert_eq!(s.access_tokens, ResourceSet::None);
    assert!(!s.streams.matches("x"));
}

#[test]
fn resource_set_with_both_or_neither_key_is_rejected() {
    for bad in [
        r#"{"basins": {"exact": "a", "prefix": "b"}}"#,
        r#"{"basins": {}}"#,
        r#"{"basins": {"suffix": "a"}}"#,
        r#"{"basins": "a"}"#,
    ] {
        assert!(
            serde_json::from_str::<AccessTokenScope>(bad).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn resource_sets_serialize_in_the_reference_form() {
    let s = scope(r#"{"basins": {"exact": "b"}, "streams": {"prefix": "p/"}, "ops": ["read"]}"#);
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["basins"], serde_json::json!({"exact": "b"}));
    assert_eq!(json["streams"], serde_json::json!({"prefix": "p/"}));
    assert_eq!(json["ops"], serde_json::json!(["read"]));
    assert_eq!(serde_json::from_value::<AccessTokenScope>(json).unwrap(), s);
}

#[test]
fn every_operation_has_its_kebab_case_name() {
    let names = [
        "list-basins",
        "create-basin",
        "delete-basin",
        "reconfigure-basin",
        "get-basin-config",
        "issue-access-token",
        "revoke-access-token",
        "list-access-tokens",
        "list-streams",
        "create-stream",
        "delete-stream",
        "get-stream-config",
        "reconfigure-stream",
        "check-tail",
        "append",
        "read",
        "trim",
        "fence",
        "account-metrics",
        "basin-metrics",
        "stream-metrics",
    ];
    assert_eq!(Operation::ALL.len(), names.len());
    for (op, name) in Operation::ALL.into_iter().zip(names) {
        assert_eq!(op.as_str(), name);
        assert_eq!(name.parse::<Operation>().unwrap(), op);
        assert_eq!(serde_json::to_string(&op).unwrap(), format!("\"{name}\""));
        assert_eq!(
            serde_json::from_str::<Operation>(&format!("\"{name}\"")).unwrap(),
            op
        );
    }
    assert_eq!("Append".parse::<Operation>().unwrap_err().code(), "invalid");
    assert!(serde_json::from_str::<Operation>("\"list_basins\"").is_err());
}

#[test]
fn op_groups_grant_the_reference_operations() {
    use Operation::*;
    let group = |json: &str| serde_json::from_str::<OpGroups>(json).unwrap().operations();
    assert_eq!(
        group(r#"{"account": {"read": true}}"#),
        OpSet::of(&[ListBasins, AccountMetrics])
    );
    assert_eq!(
        group(r#"{"account": {"write": true}}"#),
        OpSet::of(&[CreateBasin, DeleteBasin])
    );
    assert_eq!(
        group(r#"{"basin": {"read": true}}"#),
        OpSet::of(&[GetBasinConfig, ListStreams, ListAccessTokens, BasinMetrics])
    );
    assert_eq!(
        group(r#"{"basin": {"write": true}}"#),
        OpSet::of(&[
            ReconfigureBasin,
            CreateStream,
            DeleteStream,
            IssueAccessToken,
            RevokeAccessToken
        ])
    );
    assert_eq!(
        group(r#"{"stream": {"read": true}}"#),
        OpSet::of(&[GetStreamConfig, CheckTail, Read, StreamMetrics])
    );
    assert_eq!(
        group(r#"{"stream": {"write": true}}"#),
        OpSet::of(&[ReconfigureStream, Append, Trim, Fence])
    );
    let all = r#"{"account": {"read": true, "write": true}, "basin": {"read": true, "write": true},
                  "stream": {"read": true, "write": true}}"#;
    assert_eq!(group(all), OpSet::all());
    assert_eq!(
        group(r#"{"account": null, "basin": {"read": null, "write": false}}"#),
        OpSet::empty()
    );
}

#[test]
fn effective_permissions_are_the_union_of_ops_and_groups() {
    let s = scope(r#"{"ops": ["trim", "list-basins"], "op_groups": {"stream": {"read": true}}}"#);
    let effective = s.effective_ops();
    for op in [
        Operation::Trim,
        Operation::ListBasins,
        Operation::Read,
        Operation::CheckTail,
    ] {
        assert!(effective.contains(op), "{op}");
    }
    assert!(!effective.contains(Operation::Append));
}

#[test]
fn empty_permissions_are_rejected() {
    for json in [
        r#"{"id": "t", "scope": {"basins": {"prefix": ""}}}"#,
        r#"{"id": "t", "scope": {"ops": [], "op_groups": {"stream": {"read": false}}}}"#,
        r#"{"id": "t", "scope": {"ops": null, "op_groups": null}}"#,
    ] {
        let err = request(json).validate().unwrap_err();
        assert_eq!(err.to_string(), "Access token permissions cannot be empty");
        assert_eq!((err.code(), err.http_status()), ("invalid", 422));
        let f = fixture();
        let issued = f
            .authority
            .issue(sealkit_token::Issuer::Root, &request(json));
        assert_eq!(issued.unwrap_err(), err);
    }
}

#[test]
fn auto_prefix_with_exact_stream_scope_is_rejected() {
    for streams in [
        r#""streams": {"exact": "s"}"#,
        r#""streams": {"exact": ""}"#,
        r#""basins": null"#,
    ] {
        let json = format!(
            r#"{{"id": "t", "auto_prefix_streams": true, "scope": {{"ops": ["read"], {streams}}}}}"#
        );
        let err = request(&json).validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "Auto prefixing is only allowed for streams with prefix matching"
        );
        assert_eq!(err.http_status(), 422);
    }
    let ok = r#"{"id": "t", "auto_prefix_streams": true, "scope": {"ops": ["read"], "streams": {"prefix": "p/"}}}"#;
    request(ok).validate().unwrap();
}

#[test]
fn token_id_rules() {
    let with_id = |id: &str| IssueRequest::new(id, scope(r#"{"ops": ["read"]}"#)).validate();
    with_id("a").unwrap();
    with_id(&"x".repeat(96)).unwrap();
    with_id("user/1234").unwrap();
    with_id("...").unwrap();
    // Each refusal names the rule that was broken.
    let too_long = "x".repeat(97);
    for (bad, rule) in [
        ("", "must not be empty"),
        (".", "must not be \".\" or \"..\""),
        ("..", "must not be \".\" or \"..\""),
        (too_long.as_str(), "must not exceed 96 bytes"),
        ("a\0b", "must not contain control characters"),
        ("a\nb", "must not contain control characters"),
    ] {
        let err = with_id(bad).unwrap_err();
        assert_eq!(err.code(), "invalid", "{bad:?}");
        assert!(err.to_string().contains(rule), "{bad:?}: {err}");
    }
    // 96 bytes, not characters: 33 three-byte characters are 99 bytes.
    assert!(with_id(&"€".repeat(33)).is_err());
    assert!(with_id(&"€".repeat(32)).is_ok());
}

#[test]
fn the_reference_issue_request_parses_unchanged() {
    let req = request(SEED_AGENT_REQUEST);
    assert_eq!(req.id, "agent/g7wrzr9t");
    assert!(req.auto_prefix_streams);
    assert_eq!(req.expires_at.unwrap().unix_timestamp(), 1_749_024_000);
    assert_eq!(req.scope.basins, ResourceSet::Exact(BASIN.into()));
    assert_eq!(
        req.scope.streams,
        ResourceSet::Prefix("session/g7wrzr9t/".into())
    );
    assert_eq!(
        req.scope.ops,
        OpSet::of(&[Operation::ListStreams, Operation::Append])
    );
    req.validate().unwrap();
}

#[test]
fn unknown_fields_and_bad_timestamps_are_rejected() {
    for bad in [
        r#"{"id": "t", "expiry": "2030-01-01T00:00:00Z", "scope": {"ops": ["read"]}}"#,
        r#"{"id": "t", "scope": {"ops": ["read"], "stream": {"prefix": ""}}}"#,
        r#"{"id": "t", "expires_at": "tomorrow", "scope": {"ops": ["read"]}}"#,
        r#"{"id": "t", "scope": {"ops": ["read", "write"]}}"#,
        r#"{"id": "t"}"#,
        r#"not json"#,
    ] {
        let err = IssueRequest::from_json(bad.as_bytes()).unwrap_err();
        assert_eq!(err.code(), "invalid", "{bad}");
    }
}

/// serde quotes an unknown field or variant exactly as sent: the 422 message escapes what could
/// break a log line or a response apart or make it read differently (control characters, line
/// separators, bidirectional overrides), and is at most `MAX_INVALID_MESSAGE_CHARS` characters
/// however long the name is, cut between whole escapes.
#[test]
fn invalid_request_messages_escape_and_bound_what_they_quote() {
    let message = |request: &str| {
        let err = IssueRequest::from_json(request.as_bytes()).unwrap_err();
        assert_eq!(err.code(), "invalid");
        err.to_string()
    };
    let field = |name: &str| format!(r#"{{"id": "t", "scope": {{"ops": ["read"]}}, "{name}": 1}}"#);
    let op = |name: &str| format!(r#"{{"id": "t", "scope": {{"ops": ["{name}"]}}}}"#);
    let forged = message(&field(r"a\nFAKE\r\u001b[2J\u2028\u202e"));
    assert!(
        forged.contains(r"a\nFAKE\r\u{1b}[2J\u{2028}\u{202e}"),
        "{forged}"
    );
    // An unknown operation goes through our parser, then serde quotes its message: escaped once.
    let forged_op = message(&op(r"re\nad"));
    assert!(
        forged_op.contains(r#"unknown operation "re\nad""#),
        "{forged_op}"
    );
    for m in [&forged, &forged_op] {
        assert!(
            !m.chars()
                .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{202e}')),
            "{m:?}"
        );
    }

    let max = sealkit_token::MAX_INVALID_MESSAGE_CHARS;
    let cut = message(&field(&"x".repeat(10_000)));
    assert_eq!(cut.chars().count(), max, "{cut}");
    assert!(cut.ends_with("xx…"), "{cut}");
    // A long run of escapes is cut between two of them, never inside one.
    let cut = message(&field(&r"\u0007".repeat(1_000)));
    assert!(cut.chars().count() <= max, "{cut}");
    assert!(cut.ends_with(r"\u{7}…"), "{cut}");
    // An unknown operation is repeated only in part, so nothing else of the message is cut.
    let long_op = message(&op(&"y".repeat(10_000)));
    assert!(
        long_op.contains(&format!("\"{}…\"", "y".repeat(40))),
        "{long_op}"
    );
    assert!(long_op.chars().count() < max, "{long_op}");
}

#[test]
fn exact_basin_scope_allows_only_that_basin() {
    let f = fixture();
    let t =
        f.root(r#"{"id": "t", "scope": {"basins": {"exact": "b1"}, "ops": ["get-basin-config"]}}"#);
    let req = |b| OpRequest::new(Operation::GetBasinConfig).basin(b);
    let allowed = f.authority.authorize(&t, &req("b1")).unwrap();
    assert_eq!(allowed.effective_stream(), None);
    assert_eq!(
        f.authority.authorize(&t, &req("b2")).unwrap_err(),
        denied(DenialReason::Basin)
    );
    assert_eq!(
        f.authority.authorize(&t, &req("b1x")).unwrap_err(),
        denied(DenialReason::Basin)
    );
}

#[test]
fn prefix_stream_scope_allows_streams_under_it() {
    let f = fixture();
    let t = f.root(r#"{"id": "t", "scope": {"basins": {"prefix": ""}, "streams": {"prefix": "logs/"}, "ops": ["read"]}}"#);
    let req = |s| OpRequest::new(Operation::Read).basin("b").stream(s);
    let ok = f.authority.authorize(&t, &req("logs/app")).unwrap();
    assert_eq!(ok.effective_stream(), Some("logs/app"));
    assert_eq!(
        f.authority.authorize(&t, &req("metrics/x")).unwrap_err(),
        denied(DenialReason::Stream)
    );
}

#[test]
fn no_resource_scope_allows_nothing() {
    let f = fixture();
    let t = f.root(r#"{"id": "t", "scope": {"basins": {"prefix": ""}, "ops": ["read"]}}"#);
    let err = f
        .authority
        .authorize(&t, &OpRequest::new(Operation::Read).basin("b").stream("s"));
    assert_eq!(err.unwrap_err(), denied(DenialReason::Stream));
    let t = f.root(r#"{"id": "u", "scope": {"basins": {"exact": ""}, "streams": {"prefix": ""}, "ops": ["read"]}}"#);
    let err = f
        .authority
        .authorize(&t, &OpRequest::new(Operation::Read).basin("b").stream("s"));
    assert_eq!(err.unwrap_err(), denied(DenialReason::Basin));
}

#[test]
fn operation_not_granted_is_denied_with_the_reference_message() {
    let f = fixture();
    let t = f.root(r#"{"id": "t", "scope": {"basins": {"prefix": ""}, "streams": {"prefix": ""}, "ops": ["read"]}}"#);
    let err = f
        .authority
        .authorize(
            &t,
            &OpRequest::new(Operation::Append).basin("b").stream("s"),
        )
        .unwrap_err();
    assert_eq!(err, denied(DenialReason::Operation));
    assert_eq!((err.code(), err.http_status()), ("permission_denied", 403));
    assert_eq!(err.to_string(), "Operation not permitted");
}

#[test]
fn trim_and_fence_need_their_own_ops() {
    let f = fixture();
    let append_only =
        f.root(r#"{"id": "a", "scope": {"basins": {"prefix": ""}, "streams": {"prefix": ""}, "ops": ["append"]}}"#);
    let append = OpRequest::new(Operation::Append).basin("b").stream("s");
    let allowed = f.authority.authorize(&append_only, &append).unwrap();
    assert_eq!(allowed.effective_stream(), Some("s"));
    for command in [Operation::Trim, Operation::Fence] {
        let err = f
            .authority
            .authorize(&append_only, &append.also(command))
            .unwrap_err();
        assert_eq!(err, denied(DenialReason::Operation), "{command}");
        let alone = OpRequest::new(command).basin("b").stream("s");
        assert_eq!(
            f.authority.authorize(&append_only, &alone).unwrap_err(),
            denied(DenialReason::Operation)
        );
    }
    let with_trim = f.root(
        r#"{"id": "t", "scope": {"basins": {"prefix": ""}, "streams": {"prefix": ""}, "ops": ["append", "trim"]}}"#,
    );
    let allowed = f
        .authority
        .authorize(&with_trim, &append.also(Operation::Trim))
        .unwrap();
    assert_eq!(allowed.effective_stream(), Some("s"));
    let err = f
        .authority
        .authorize(&with_trim, &append.also(Operation::Fence))
        .unwrap_err();
    assert_eq!(err, denied(DenialReason::Operation));
}

#[test]
fn auto_prefix_rewrites_request_stream_names() {
    let f = fixture();
    let t = f.root(
        r#"{"id": "t", "auto_prefix_streams": true,
            "scope": {"basins": {"prefix": ""}, "streams": {"prefix": "tenant/7/"}, "ops": ["read", "create-stream"]}}"#,
    );
    for op in [Operation::Read, Operation::CreateStream] {
        let ok = f
            .authority
            .authorize(&t, &OpRequest::new(op).basin("b").stream("events"))
            .unwrap();
        assert_eq!(ok.effective_stream(), Some("tenant/7/events"));
    }
    // The prefix is concatenated verbatim: the holder cannot climb out of it.
    let ok = f
        .authority
        .authorize(
            &t,
            &OpRequest::new(Operation::Read).basin("b").stream("../x"),
        )
        .unwrap();
    assert_eq!(ok.effective_stream(), Some("tenant/7/../x"));
}

#[test]
fn authorize_into_decides_like_authorize_and_reuses_its_buffer() {
    let f = fixture();
    let prefixed = f.root(
        r#"{"id": "p", "auto_prefix_streams": true,
            "scope": {"basins": {"exact": "b"}, "streams": {"prefix": "tenant/7/"}, "ops": ["read"]}}"#,
    );
    let plain = f.root(
        r#"{"id": "q", "scope": {"basins": {"exact": "b"}, "streams": {"prefix": "logs/"}, "ops": ["read"]}}"#,
    );
    let mut buffer = String::from("left over from an earlier request");
    let requests = [
        OpRequest::new(Operation::Read).basin("b").stream("events"),
        OpRequest::new(Operation::Read)
            .basin("b")
            .stream("logs/app"),
        OpRequest::new(Operation::Read)
            .basin("other")
            .stream("events"),
        OpRequest::new(Operation::Append)
            .basin("b")
            .stream("events"),
        OpRequest::new(Operation::Read).basin("b"),
    ];
    for token in [&prefixed, &plain, &"sktok1_k1_AAAA".to_owned()] {
        for request in &requests {
            let owned = f.authority.authorize(token, request);
            let reused = f.authority.authorize_into(token, request, &mut buffer);
            assert_eq!(
                owned.as_ref().map(|a| a.effective_stream()),
                reused.as_ref().map(|a| a.effective_stream()),
                "{request:?}"
            );
        }
    }
    // The prefixed name is written over whatever the buffer held.
    let allowed = f
        .authority
        .authorize_into(
            &prefixed,
            &OpRequest::new(Operation::Read).basin("b").stream("events"),
            &mut buffer,
        )
        .unwrap();
    assert_eq!(allowed.effective_stream(), Some("tenant/7/events"));
    assert_eq!(buffer, "tenant/7/events");
    // Without a prefix the name is borrowed from the request and the buffer is left alone.
    let request = OpRequest::new(Operation::Read)
        .basin("b")
        .stream("logs/app");
    let allowed = f
        .authority
        .authorize_into(&plain, &request, &mut buffer)
        .unwrap();
    assert!(matches!(
        allowed.into_effective_stream(),
        Some(std::borrow::Cow::Borrowed("logs/app"))
    ));
    assert_eq!(buffer, "tenant/7/events");
    // A refused request leaves it alone too, even one whose stream would be prefixed.
    let refused = OpRequest::new(Operation::Read)
        .basin("b")
        .stream("x")
        .access_token("t");
    let err = f
        .authority
        .authorize_into(&prefixed, &refused, &mut buffer)
        .unwrap_err();
    assert!(
        matches!(err, TokenError::PermissionDenied { .. }),
        "{err:?}"
    );
    assert_eq!(buffer, "tenant/7/events");
}

#[test]
fn auto_prefix_strips_listed_names_and_filters_to_scope() {
    let f = fixture();
    let t = f.root(
        r#"{"id": "t", "auto_prefix_streams": true,
            "scope": {"basins": {"prefix": ""}, "streams": {"prefix": "session/g7/"}, "ops": ["list-streams"]}}"#,
    );
    let allowed = f
        .authority
        .authorize(&t, &OpRequest::new(Operation::ListStreams).basin("b"))
        .unwrap();
    assert_eq!(allowed.effective_stream(), None);
    let v = f.authority.verify(&t).unwrap();
    assert_eq!(v.stream_list_prefix("con"), "session/g7/con");
    let listed = [
        "session/g7/console",
        "session/g7/telemetry",
        "session/rh/console",
        "other",
    ];
    assert_eq!(v.filter_streams(listed), ["console", "telemetry"]);
    assert_eq!(v.visible_stream("session/rh/console"), None);
    // The stream named exactly the prefix would list as "", a name no request can use.
    assert_eq!(v.visible_stream("session/g7/"), None);
    assert_eq!(v.filter_streams(["session/g7/", "session/g7/x"]), ["x"]);
}

#[test]
fn empty_names_are_invalid_and_never_reach_the_bare_prefix() {
    let f = fixture();
    let t = f.root(
        r#"{"id": "t", "auto_prefix_streams": true,
            "scope": {"basins": {"prefix": ""}, "streams": {"prefix": "session/g7/"},
                      "access_tokens": {"prefix": ""}, "ops": ["append", "revoke-access-token"]}}"#,
    );
    let requests = [
        (
            OpRequest::new(Operation::Append).basin("b").stream(""),
            "the stream name is empty",
        ),
        (
            OpRequest::new(Operation::Append).basin("").stream("s"),
            "the basin name is empty",
        ),
        (
            OpRequest::new(Operation::RevokeAccessToken)
                .basin("b")
                .access_token(""),
            "the access token id is empty",
        ),
    ];
    for (request, message) in requests {
        let err = f.authority.authorize(&t, &request).unwrap_err();
        assert_eq!((err.code(), err.http_status()), ("invalid", 422), "{err}");
        assert_eq!(err.to_string(), message);
    }
    // A non-empty name is fine, and lands under the prefix.
    let ok = f
        .authority
        .authorize(
            &t,
            &OpRequest::new(Operation::Append).basin("b").stream("s"),
        )
        .unwrap();
    assert_eq!(ok.effective_stream(), Some("session/g7/s"));
}

#[test]
fn listing_without_auto_prefix_filters_but_keeps_names() {
    let f = fixture();
    let t = f.root(
        r#"{"id": "t", "scope": {"basins": {"prefix": "prod-"}, "streams": {"prefix": "a/"},
            "access_tokens": {"prefix": "svc/"}, "ops": ["list-streams", "list-basins", "list-access-tokens"]}}"#,
    );
    let v = f.authority.verify(&t).unwrap();
    assert_eq!(v.stream_list_prefix("x"), "x");
    assert_eq!(v.filter_streams(["a/1", "b/1", "a/"]), ["a/1", "a/"]);
    assert_eq!(
        v.filter_basins(["prod-1", "dev-1", "prod-"]),
        ["prod-1", "prod-"]
    );
    assert_eq!(v.filter_access_tokens(["svc/a", "user/b"]), ["svc/a"]);
}

#[test]
fn operations_missing_their_resource_are_invalid() {
    let f = fixture();
    let t = f.root(r#"{"id": "t", "scope": {"basins": {"prefix": ""}, "streams": {"prefix": ""}, "op_groups": {"stream": {"write": true}, "basin": {"write": true}}}}"#);
    let err = f
        .authority
        .authorize(&t, &OpRequest::new(Operation::Append).basin("b"))
        .unwrap_err();
    assert_eq!(err.code(), "invalid");
    let err = f
        .authority
        .authorize(&t, &OpRequest::new(Operation::Append).stream("s"))
        .unwrap_err();
    assert_eq!(err.code(), "invalid");
    let err = f
        .authority
        .authorize(&t, &OpRequest::new(Operation::RevokeAccessToken))
        .unwrap_err();
    assert_eq!(err.code(), "invalid");
}

#[test]
fn access_token_operations_check_the_access_token_scope() {
    let f = fixture();
    let t = f.root(r#"{"id": "t", "scope": {"access_tokens": {"prefix": "user/"}, "ops": ["revoke-access-token"]}}"#);
    let req = |id| OpRequest::new(Operation::RevokeAccessToken).access_token(id);
    let allowed = f.authority.authorize(&t, &req("user/1")).unwrap();
    assert_eq!(allowed.effective_stream(), None);
    assert_eq!(
        f.authority.authorize(&t, &req("svc/1")).unwrap_err(),
        denied(DenialReason::AccessToken)
    );
}

#[test]
fn subset_relation_between_resource_sets() {
    let none = ResourceSet::None;
    let all = ResourceSet::all();
    let exact = ResourceSet::Exact("a/b".into());
    let prefix = ResourceSet::Prefix("a/".into());
    let narrower = ResourceSet::Prefix("a/b".into());
    assert!(none.is_subset_of(&none) && none.is_subset_of(&exact) && none.is_subset_of(&all));
    assert!(!exact.is_subset_of(&none) && !all.is_subset_of(&none));
    assert!(exact.is_subset_of(&exact) && exact.is_subset_of(&prefix) && exact.is_subset_of(&all));
    assert!(narrower.is_subset_of(&prefix) && !prefix.is_subset_of(&narrower));
    assert!(!prefix.is_subset_of(&exact) && !all.is_subset_of(&prefix));
    assert!(!ResourceSet::Exact("b".into()).is_subset_of(&prefix));
}
