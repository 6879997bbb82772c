//! The edge in `template.yaml`: the CloudFront distribution, its cache and
//! origin request policies, the web ACL and when it exists, the functions'
//! side of it (the origin check, the per-client limit), and the outputs.

use conduit_tests::gateway::Cors;
use conduit_tests::template;
use serde_yaml::Value as Yaml;

/// `value` as `(tag, inner)` when it is a tagged value (`!Ref x`, `!If [...]`).
fn tagged(value: &Yaml) -> Option<(String, &Yaml)> {
    match value {
        Yaml::Tagged(t) => Some((
            t.tag.to_string().trim_start_matches('!').to_owned(),
            &t.value,
        )),
        _ => None,
    }
}

fn strings(value: &Yaml) -> Vec<String> {
    value
        .as_sequence()
        .unwrap_or_else(|| panic!("not a list: {value:?}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn lower(list: &[String]) -> Vec<String> {
    list.iter().map(|s| s.to_ascii_lowercase()).collect()
}

#[test]
fn the_edge_is_on_by_default_and_every_edge_resource_is_conditional_on_it() {
    let template = template().unwrap();
    assert_eq!(
        template["Parameters"]["EdgeEnabled"]["Default"].as_str(),
        Some("true")
    );
    for name in [
        "Edge",
        "EdgeCachePolicy",
        "EdgeOriginRequestPolicy",
        "OriginKey",
    ] {
        assert_eq!(
            template["Resources"][name]["Condition"].as_str(),
            Some("HasEdge"),
            "{name}"
        );
    }
}

#[test]
fn the_distribution_serves_https_only_every_method_compressed_through_both_policies() {
    let template = template().unwrap();
    let config = &template["Resources"]["Edge"]["Properties"]["DistributionConfig"];
    let origin = &config["Origins"][0];
    let (tag, domain) = tagged(&origin["DomainName"]).unwrap();
    assert_eq!(tag, "Sub");
    assert!(domain.as_str().unwrap().starts_with("${Api}.execute-api."));
    assert_eq!(
        origin["CustomOriginConfig"]["OriginProtocolPolicy"].as_str(),
        Some("https-only")
    );
    let behavior = &config["DefaultCacheBehavior"];
    assert_eq!(behavior["TargetOriginId"], origin["Id"]);
    assert_eq!(
        behavior["ViewerProtocolPolicy"].as_str(),
        Some("https-only")
    );
    assert_eq!(behavior["Compress"].as_bool(), Some(true));
    let mut methods = strings(&behavior["AllowedMethods"]);
    methods.sort();
    assert_eq!(
        methods,
        ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
    );
    assert_eq!(strings(&behavior["CachedMethods"]), ["GET", "HEAD"]);
    for (field, policy) in [
        ("CachePolicyId", "EdgeCachePolicy"),
        ("OriginRequestPolicyId", "EdgeOriginRequestPolicy"),
    ] {
        let (tag, target) = tagged(&behavior[field]).unwrap();
        assert_eq!((tag.as_str(), target.as_str()), ("Ref", Some(policy)));
    }
    // No error is kept: CloudFront's default would keep these 10 s.
    let kept: Vec<(u64, u64)> = config["CustomErrorResponses"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["ErrorCode"].as_u64().unwrap(),
                e["ErrorCachingMinTTL"].as_u64().unwrap(),
            )
        })
        .collect();
    for code in [400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504] {
        assert!(kept.contains(&(code, 0)), "{code}: {kept:?}");
    }
}

#[test]
fn the_distribution_sends_the_origin_secret_the_functions_check_and_no_one_else_sees_it() {
    let template = template().unwrap();
    let origin = &template["Resources"]["Edge"]["Properties"]["DistributionConfig"]["Origins"][0];
    let header = &origin["OriginCustomHeaders"][0];
    assert_eq!(
        header["HeaderName"].as_str().unwrap().to_ascii_lowercase(),
        conduit::http::ORIGIN_HEADER
    );
    let (tag, value) = tagged(&header["HeaderValue"]).unwrap();
    assert_eq!(
        (tag.as_str(), value.as_str()),
        ("GetAtt", Some("OriginKey.OriginSecret"))
    );
    let key = &template["Resources"]["OriginKey"];
    assert_eq!(key["Type"].as_str(), Some("Custom::OriginKey"));
    assert_eq!(key["DependsOn"].as_str(), Some("KeyRing"));
    assert_eq!(key["Properties"]["Publishes"].as_str(), Some("Origin"));
    // Every function gets the digest (or `none` without an edge, or while an
    // existing stack's clients move over)...
    let digest = &template["Globals"]["Function"]["Environment"]["Variables"]["ORIGIN_DIGEST"];
    let (tag, branches) = tagged(digest).unwrap();
    assert_eq!(tag, "If");
    assert_eq!(branches[0].as_str(), Some("RefuseDirectCalls"));
    let refuse = serde_yaml::to_string(&template["Conditions"]["RefuseDirectCalls"]).unwrap();
    assert!(
        refuse.contains("HasEdge") && refuse.contains("EdgeRefusesDirectCalls"),
        "{refuse}"
    );
    assert_eq!(
        template["Parameters"]["EdgeRefusesDirectCalls"]["Default"].as_str(),
        Some("true")
    );
    let (tag, attribute) = tagged(&branches[1]).unwrap();
    assert_eq!(
        (tag.as_str(), attribute.as_str()),
        ("GetAtt", Some("OriginKey.OriginDigest"))
    );
    assert_eq!(branches[2].as_str(), Some("none"));
    // ...but the function that answers for the OriginKey, which cannot wait for it.
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        let own = &resource["Properties"]["Environment"]["Variables"]["ORIGIN_DIGEST"];
        match name.as_str() {
            Some("KeyRingFunction") => assert_eq!(own.as_str(), Some("none")),
            _ => assert!(own.is_null(), "{name:?} overrides ORIGIN_DIGEST"),
        }
    }
    // The secret itself is in no output.
    let outputs = serde_yaml::to_string(&template["Outputs"]).unwrap();
    assert!(!outputs.contains("OriginSecret"), "{outputs}");
}

#[test]
fn the_cache_key_is_the_token_every_query_string_and_the_origin_and_ttls_follow_the_origin() {
    let template = template().unwrap();
    let policy = &template["Resources"]["EdgeCachePolicy"]["Properties"]["CachePolicyConfig"];
    assert_eq!(policy["MinTTL"].as_u64(), Some(0));
    assert_eq!(
        policy["DefaultTTL"].as_u64(),
        Some(0),
        "no Cache-Control, no caching"
    );
    let max_age = template["Parameters"]["SharedMaxAgeSeconds"]["MaxValue"]
        .as_u64()
        .unwrap();
    assert!(policy["MaxTTL"].as_u64().unwrap() >= max_age);
    let key = &policy["ParametersInCacheKeyAndForwardedToOrigin"];
    assert_eq!(
        key["HeadersConfig"]["HeaderBehavior"].as_str(),
        Some("whitelist")
    );
    assert_eq!(
        lower(&strings(&key["HeadersConfig"]["Headers"])),
        ["authorization", "origin"]
    );
    assert_eq!(
        key["QueryStringsConfig"]["QueryStringBehavior"].as_str(),
        Some("all")
    );
    assert_eq!(
        key["CookiesConfig"]["CookieBehavior"].as_str(),
        Some("none")
    );
    assert_eq!(key["EnableAcceptEncodingGzip"].as_bool(), Some(true));
    assert_eq!(
        template["Parameters"]["SharedMaxAgeSeconds"]["Default"].as_u64(),
        Some(u64::from(
            conduit::config::EdgeConfig::DEFAULT_SHARED_MAX_AGE
        ))
    );
}

#[test]
fn the_functions_get_every_header_they_read_and_the_viewers_address() {
    let template = template().unwrap();
    let origin = &template["Resources"]["EdgeOriginRequestPolicy"]["Properties"]["OriginRequestPolicyConfig"];
    let mut forwarded = lower(&strings(&origin["HeadersConfig"]["Headers"]));
    let cache = &template["Resources"]["EdgeCachePolicy"]["Properties"]["CachePolicyConfig"];
    forwarded.extend(lower(&strings(
        &cache["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]["Headers"],
    )));
    let mut needed: Vec<String> = [
        "content-type",
        "idempotency-key",
        "if-match",
        "if-none-match",
        "origin",
        "access-control-request-method",
        "access-control-request-headers",
        conduit::http::VIEWER_HEADER,
    ]
    .map(str::to_owned)
    .to_vec();
    // Whatever a browser may send (the API's CORS settings) reaches the API too.
    needed.extend(lower(&Cors::from_template().unwrap().headers));
    for header in needed {
        assert!(
            forwarded.contains(&header),
            "{header} is not forwarded: {forwarded:?}"
        );
    }
    assert_eq!(
        origin["QueryStringsConfig"]["QueryStringBehavior"].as_str(),
        Some("all")
    );
}

#[test]
fn the_web_acl_limits_each_client_address_on_sign_in_and_sign_up_where_cloudfront_can_take_it() {
    let template = template().unwrap();
    let acl = &template["Resources"]["EdgeWebAcl"];
    assert_eq!(acl["Type"].as_str(), Some("AWS::WAFv2::WebACL"));
    assert_eq!(acl["Condition"].as_str(), Some("CreateWebAcl"));
    assert_eq!(acl["Properties"]["Scope"].as_str(), Some("CLOUDFRONT"));
    // Created only in us-east-1, with the edge on and no ARN given.
    let condition = serde_yaml::to_string(&template["Conditions"]["CreateWebAcl"]).unwrap();
    for part in ["HasEdge", "HasWebAclArn", "us-east-1", "AWS::Region"] {
        assert!(condition.contains(part), "{part}: {condition}");
    }
    let rules = acl["Properties"]["Rules"].as_sequence().unwrap();
    let auth = rules
        .iter()
        .find(|r| r["Name"].as_str() == Some("auth-per-client"))
        .expect("a rule for the auth routes");
    let rate = &auth["Statement"]["RateBasedStatement"];
    assert_eq!(rate["AggregateKeyType"].as_str(), Some("IP"));
    let (tag, limit) = tagged(&rate["Limit"]).unwrap();
    assert_eq!(
        (tag.as_str(), limit.as_str()),
        ("Ref", Some("EdgeAuthRateLimit"))
    );
    let scope = serde_yaml::to_string(&rate["ScopeDownStatement"]).unwrap();
    assert!(
        scope.contains("/api/users") && scope.contains("POST"),
        "{scope}"
    );
    let response = &auth["Action"]["Block"]["CustomResponse"];
    assert_eq!(response["ResponseCode"].as_u64(), Some(429));
    assert_eq!(
        response["ResponseHeaders"][0]["Name"].as_str(),
        Some("Retry-After")
    );
    let key = response["CustomResponseBodyKey"].as_str().unwrap();
    let body: serde_json::Value = serde_json::from_str(
        acl["Properties"]["CustomResponseBodies"][key]["Content"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert!(
        body["errors"].is_object(),
        "RealWorld's error shape: {body}"
    );
    // Attached: the stack's own, else the given ARN, else none.
    let attached = serde_yaml::to_string(
        &template["Resources"]["Edge"]["Properties"]["DistributionConfig"]["WebACLId"],
    )
    .unwrap();
    for part in [
        "CreateWebAcl",
        "EdgeWebAcl.Arn",
        "AttachWebAclArn",
        "WebAclArn",
    ] {
        assert!(attached.contains(part), "{part}: {attached}");
    }
}

#[test]
fn the_sign_in_functions_take_the_per_client_limit_and_may_count_it() {
    let template = template().unwrap();
    assert_eq!(
        template["Parameters"]["AuthRequestsPerClient"]["Default"].as_u64(),
        Some(u64::from(
            conduit::config::AuthLimits::DEFAULT_CLIENT_REQUESTS
        ))
    );
    for name in ["RegisterFunction", "LoginFunction"] {
        let properties = &template["Resources"][name]["Properties"];
        let (tag, param) =
            tagged(&properties["Environment"]["Variables"]["AUTH_REQUESTS_PER_CLIENT"]).unwrap();
        assert_eq!(
            (tag.as_str(), param.as_str()),
            ("Ref", Some("AuthRequestsPerClient")),
            "{name}"
        );
        let policies = serde_yaml::to_string(&properties["Policies"]).unwrap();
        assert!(
            policies.contains("CLIENT#*"),
            "{name} cannot count its clients"
        );
    }
}

#[test]
fn api_url_is_the_edge_when_it_is_on_and_the_api_gateway_url_stays_a_second_output() {
    let template = template().unwrap();
    let outputs = &template["Outputs"];
    let (tag, branches) = tagged(&outputs["ApiUrl"]["Value"]).unwrap();
    assert_eq!(tag, "If");
    assert_eq!(branches[0].as_str(), Some("HasEdge"));
    let edge = serde_yaml::to_string(&branches[1]).unwrap();
    assert!(edge.contains("${Edge.DomainName}/api"), "{edge}");
    let direct = serde_yaml::to_string(&branches[2]).unwrap();
    assert!(direct.contains("execute-api"), "{direct}");
    let second = serde_yaml::to_string(&outputs["ApiGatewayUrl"]["Value"]).unwrap();
    assert!(
        second.contains("execute-api") && second.contains("/api"),
        "{second}"
    );
    assert_eq!(
        outputs["EdgeDistributionId"]["Condition"].as_str(),
        Some("HasEdge")
    );
}
