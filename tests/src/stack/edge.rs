//! The edge's part of the local stack: who may keep a read (an anonymous one
//! is shareable for `s-maxage`, an authenticated one private), calls around
//! the edge refused, and login limits per client (the local edge passes each
//! connection's address on as CloudFront passes the viewer's).

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{Result, bail};
use hyper::Method;
use serde_json::json;

use super::client::{Reply, Stack, expect_status};

/// The second client of the fairness check (the first is 127.0.0.1).
const OTHER_CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// `GET /api/articles?limit=10&offset=0` anonymously and with a token.
pub async fn check_shared_reads(stack: &Stack) -> Result<String> {
    let (_, token) = stack.register("cache").await?;
    let path = "/api/articles?limit=10&offset=0";
    let anonymous = stack.get(path, &[]).await?;
    let authorization = format!("Token {token}");
    let mine = stack
        .get(path, &[("authorization", authorization.as_str())])
        .await?;
    let missing = stack
        .get("/api/articles/no-such-article-000000000000", &[])
        .await?;
    judge_shared_reads(&anonymous, &mine, &missing)?;
    Ok(format!(
        "anonymous: {}; with a token: {}; a 404: {}",
        anonymous.header("cache-control").unwrap_or_default(),
        mine.header("cache-control").unwrap_or_default(),
        missing.header("cache-control").unwrap_or_default(),
    ))
}

/// An anonymous 200 is `public` with `s-maxage`, an authenticated one
/// `private`, both `Vary: Authorization`; an error is `no-store`.
pub fn judge_shared_reads(anonymous: &Reply, mine: &Reply, missing: &Reply) -> Result<()> {
    expect_status(anonymous, 200, "an anonymous GET /api/articles")?;
    expect_status(mine, 200, "GET /api/articles with a token")?;
    let shared = anonymous.header("cache-control").unwrap_or_default();
    if !(anonymous.lists("cache-control", "public") && shared.contains("s-maxage=")) {
        bail!(
            "an anonymous read is not shareable: {}",
            anonymous.describe()
        );
    }
    if !mine.lists("cache-control", "private") {
        bail!("an authenticated read is not private: {}", mine.describe());
    }
    for reply in [anonymous, mine] {
        if !reply.lists("vary", "authorization") {
            bail!("a read without Vary: Authorization: {}", reply.describe());
        }
    }
    if missing.status < 400 || !missing.lists("cache-control", "no-store") {
        bail!("an error that a cache may keep: {}", missing.describe());
    }
    Ok(())
}

/// A call straight to the runtime (the execute-api URL's stand-in: no edge
/// header) at `url` is refused.
pub async fn check_around_the_edge(runtime: &Stack) -> Result<String> {
    let reply = runtime.get("/api/tags", &[]).await?;
    judge_around_the_edge(&reply)?;
    Ok(format!("GET /api/tags around the edge: {}", reply.status))
}

/// A call around the edge must be a 403 naming the origin.
pub fn judge_around_the_edge(reply: &Reply) -> Result<()> {
    expect_status(reply, 403, "GET /api/tags around the edge")?;
    if !reply.json()["errors"]["origin"].is_array() {
        bail!("a 403 that does not say why: {}", reply.describe());
    }
    Ok(())
}

/// One client (127.0.0.2) guesses wrong for another user's email until it
/// is locked out; the owner (127.0.0.1) still logs in.
pub async fn check_login_fairness(stack: &Stack, url: &str) -> Result<String> {
    let attacker = Stack::from_address(url, OTHER_CLIENT)?;
    let (name, _) = stack.register("victim").await?;
    let email = format!("{name}@example.com");
    let login =
        |password: &str| json!({"user": {"email": email, "password": password}}).to_string();
    let json = [("content-type", "application/json")];
    let mut guesses = Vec::new();
    for _ in 0..8 {
        let reply = attacker
            .send(
                Method::POST,
                "/api/users/login",
                &json,
                login("wrong-guess"),
            )
            .await?;
        guesses.push(reply);
    }
    let owner = stack
        .send(
            Method::POST,
            "/api/users/login",
            &json,
            login("password123"),
        )
        .await?;
    judge_login_fairness(&guesses, &owner)?;
    let statuses: Vec<String> = guesses.iter().map(|r| r.status.to_string()).collect();
    Ok(format!(
        "127.0.0.2 guessing: {}; the owner from 127.0.0.1: {}",
        statuses.join(" "),
        owner.status
    ))
}

/// The guesses end locked out (429 with `Retry-After`, RealWorld's error
/// shape); the owner's login from elsewhere is a 200.
pub fn judge_login_fairness(guesses: &[Reply], owner: &Reply) -> Result<()> {
    let Some(last) = guesses.last() else {
        bail!("no guesses were made");
    };
    expect_status(last, 429, "the guessing client's last attempt")?;
    if last.header("retry-after").is_none() || !last.json()["errors"].is_object() {
        bail!("a 429 without Retry-After or errors: {}", last.describe());
    }
    if guesses.iter().any(|g| g.status != 401 && g.status != 429) {
        bail!("a guess answered neither 401 nor 429");
    }
    expect_status(owner, 200, "the owner's login from another client")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str =
        "public, max-age=0, s-maxage=5, stale-while-revalidate=10, stale-if-error=300";

    #[test]
    fn shareable_anonymous_private_authenticated_and_unkept_errors_pass() {
        let anonymous = Reply::canned(
            200,
            &[("cache-control", PUBLIC), ("vary", "Authorization")],
            "{}",
        );
        let mine = Reply::canned(
            200,
            &[
                ("cache-control", "private, no-cache"),
                ("vary", "Authorization"),
            ],
            "{}",
        );
        let missing = Reply::canned(404, &[("cache-control", "no-store")], "{}");
        judge_shared_reads(&anonymous, &mine, &missing).unwrap();
        let private = Reply::canned(
            200,
            &[
                ("cache-control", "private, no-cache"),
                ("vary", "Authorization"),
            ],
            "{}",
        );
        assert!(judge_shared_reads(&private, &mine, &missing).is_err());
        assert!(judge_shared_reads(&anonymous, &anonymous, &missing).is_err());
        let kept = Reply::canned(404, &[], "{}");
        assert!(judge_shared_reads(&anonymous, &mine, &kept).is_err());
    }

    #[test]
    fn a_call_around_the_edge_must_be_refused_saying_why() {
        judge_around_the_edge(&Reply::canned(403, &[], r#"{"errors":{"origin":["x"]}}"#)).unwrap();
        assert!(judge_around_the_edge(&Reply::canned(200, &[], r#"{"tags":[]}"#)).is_err());
    }

    #[test]
    fn the_owner_locked_out_by_another_client_fails_the_check() {
        let locked = Reply::canned(
            429,
            &[("retry-after", "1")],
            r#"{"errors":{"credentials":["x"]}}"#,
        );
        let guesses = [Reply::canned(401, &[], "{}"), locked.clone()];
        judge_login_fairness(&guesses, &Reply::canned(200, &[], "{}")).unwrap();
        assert!(judge_login_fairness(&guesses, &locked).is_err());
        let never_locked = [Reply::canned(401, &[], "{}")];
        assert!(judge_login_fairness(&never_locked, &Reply::canned(200, &[], "{}")).is_err());
    }
}
