//! The committed `events/*.json` use placeholders where a real event would
//! carry values only a running deployment knows (a token, a slug, a comment
//! id). [`fill`] supplies them from a seeded table, so each event succeeds.

use anyhow::{Context, Result, ensure};
use conduit::App;
use conduit::api::add_comment::{NewComment, NewCommentDto, add_comment, plan_comment};
use conduit::api::create_article::{ArticleDraft, create_article, plan_article};
use conduit::domain::{
    ArticleText, Description, Page, Session, SessionId, Slug, Timestamp, Title, UserId, Username,
};
use conduit::store::ListFilter;

/// The demo user the events act as.
pub const EVENT_USER: &str = "jake";

/// What invoking each function's event must return: status and top-level body keys.
pub fn expectation(function: &str) -> Option<(u16, &'static [&'static str])> {
    Some(match function {
        "register" => (201, &["user"]),
        "login" | "get_current_user" | "update_user" => (200, &["user"]),
        "get_profile" | "follow_user" | "unfollow_user" => (200, &["profile"]),
        "list_articles" | "get_feed" => (200, &["articles", "articlesCount"]),
        "create_article" => (201, &["article"]),
        "get_article" | "update_article" | "favorite_article" | "unfavorite_article" => {
            (200, &["article"])
        }
        "delete_article" | "delete_comment" | "end_sessions" => (204, &[]),
        "list_comments" => (200, &["comments"]),
        "add_comment" => (201, &["comment"]),
        "get_tags" => (200, &["tags"]),
        "get_openapi" => (200, &["openapi", "info", "paths", "components"]),
        _ => return None,
    })
}

/// Replaces `${TOKEN}`, `${SLUG}`, `${DOOMED_SLUG}`, `${COMMENT_ID}` and
/// `${UNIQUE}` in an event with values from the seeded table behind `app`
/// (creating a throwaway article or comment where the event deletes one).
pub async fn fill(app: &App, event: &str) -> Result<String> {
    let jake = app
        .store
        .user_id_by_username(&Username::parse(Some(EVENT_USER)).map_err(anyhow::Error::msg)?)
        .await?
        .context("the demo user is missing: seed the table first (conduit-dev seed)")?;
    // A session of its own, as a login would start, in the user's epoch now.
    let session = Session {
        id: SessionId::generate(),
        epoch: app
            .store
            .user(&jake, true)
            .await?
            .context("the demo user is missing")?
            .session_epoch,
    };
    let signer = app.signer()?;
    let mut filled = event.replace("${TOKEN}", &signer.issue(&jake, &session));
    if filled.contains("${SLUG}") || filled.contains("${COMMENT_ID}") {
        let page = Page::parse(Some("1"), None).map_err(anyhow::Error::msg)?;
        let newest = app
            .store
            .list_articles(&ListFilter::Author(jake.clone()), page, None)
            .await?;
        let article = &newest
            .articles
            .first()
            .context("the demo user has no articles")?
            .article;
        if filled.contains("${COMMENT_ID}") {
            let comment: NewComment = serde_json::from_value::<NewCommentDto>(
                serde_json::json!({"body": "A comment to delete"}),
            )?
            .try_into()?;
            let now = Timestamp::now();
            let plan = plan_comment(
                app,
                &article.slug,
                &article.article_id,
                &jake,
                &session,
                comment,
                now,
            )
            .await?;
            let view = add_comment(app, plan, None).await?;
            filled = filled.replace("${COMMENT_ID}", &view.comment.id.to_string());
        }
        filled = filled.replace("${SLUG}", article.slug.as_str());
    }
    if filled.contains("${DOOMED_SLUG}") {
        filled = filled.replace(
            "${DOOMED_SLUG}",
            throwaway(app, &jake, &session).await?.as_str(),
        );
    }
    Ok(filled.replace("${UNIQUE}", UserId::generate().as_str()))
}

async fn throwaway(app: &App, author: &UserId, session: &Session) -> Result<Slug> {
    let text = |raw: &str| Some(raw.to_owned());
    let draft = ArticleDraft::new(
        Title::parse(text("An article to delete").as_deref()).map_err(anyhow::Error::msg)?,
        Description::parse(text("Created for events/delete_article.json").as_deref())
            .map_err(anyhow::Error::msg)?,
        ArticleText::parse(text("Nothing to see.").as_deref()).map_err(anyhow::Error::msg)?,
        Vec::new(),
    );
    let plan = plan_article(app, author, session, draft, Timestamp::now()).await?;
    let view = create_article(app, plan, None).await?;
    Ok(view.article.slug)
}

/// Checks what `cargo lambda invoke --output-format json` printed for
/// `function`'s event: the API Gateway response's status and body shape.
pub fn check_invoke_output(function: &str, output: &str) -> Result<()> {
    let (status, keys) =
        expectation(function).with_context(|| format!("no function {function}"))?;
    let response: serde_json::Value =
        serde_json::from_str(output).context("invoke output is not JSON")?;
    ensure!(
        response["statusCode"] == status,
        "{function}: expected status {status}, got {}",
        response
    );
    let body = response["body"].as_str().unwrap_or_default();
    if keys.is_empty() {
        ensure!(body.is_empty(), "{function}: expected no body, got {body}");
        return Ok(());
    }
    let body: serde_json::Value =
        serde_json::from_str(body).with_context(|| format!("{function}: body is not JSON"))?;
    for key in keys {
        ensure!(body.get(key).is_some(), "{function}: no {key} in {body}");
    }
    let content_type = &response["headers"]["content-type"];
    ensure!(
        content_type == "application/json; charset=utf-8",
        "{function}: content-type {content_type}"
    );
    Ok(())
}
