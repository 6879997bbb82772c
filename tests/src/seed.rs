//! Demo data for the local API, written through the same use cases the
//! functions run, so it obeys every invariant real data does.

use anyhow::{Context, Result, anyhow};
use conduit::App;
use conduit::api::create_article::ArticleDraft;
use conduit::api::{add_comment, create_article, favoriting, following, register, update_user};
use conduit::domain::{
    ArticleText, Description, Email, Password, Session, Slug, Timestamp, Title, UserId, Username,
    parse_tag_list,
};

/// Password of every demo user.
pub const DEMO_PASSWORD: &str = "password123";

/// Demo users: username, bio.
pub const DEMO_USERS: [(&str, &str); 4] = [
    ("jake", "I work at statefarm"),
    ("ada", "Analytical engines and poetry"),
    (
        "grace",
        "It's easier to ask forgiveness than it is to get permission",
    ),
    ("linus", "Talk is cheap. Show me the code."),
];

const TOPICS: [(&str, &[&str]); 10] = [
    ("How to train your dragon", &["dragons", "training"]),
    (
        "Ownership explained with sandwiches",
        &["rust", "beginners"],
    ),
    (
        "Single-table design in DynamoDB",
        &["dynamodb", "aws", "design"],
    ),
    ("Cold starts are a choice", &["aws", "lambda", "rust"]),
    ("Why we hash passwords with argon2id", &["security", "rust"]),
    ("Pagination without regret", &["design", "api"]),
    ("A tour of the borrow checker", &["rust", "beginners"]),
    ("Serverless on a budget", &["aws", "lambda", "cost"]),
    ("Writing error messages people read", &["api", "design"]),
    ("Testing with real concurrency", &["testing", "rust"]),
];

/// Seeds users, about three dozen articles, follows, favorites and comments.
/// Does nothing when the demo users already exist (so a restart keeps data).
pub async fn seed(app: &App) -> Result<bool> {
    if app
        .store
        .user_id_by_username(&Username::parse(Some(DEMO_USERS[0].0)).map_err(|e| anyhow!(e))?)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let mut users: Vec<UserId> = Vec::new();
    for (name, bio) in DEMO_USERS {
        let new = register::NewUser {
            username: Username::parse(Some(name)).map_err(|e| anyhow!(e))?,
            email: Email::parse(Some(&format!("{name}@example.com"))).map_err(|e| anyhow!(e))?,
            password: Password::parse(Some(DEMO_PASSWORD)).map_err(|e| anyhow!(e))?,
        };
        let planned = register::plan_registration(new, Timestamp::now()).await?;
        let user = register::register(app, planned, None)
            .await
            .map(|registered| registered.user)
            .with_context(|| format!("registering {name}"))?;
        let update: update_user::UserUpdate =
            serde_json::from_value::<UpdateInput>(serde_json::json!({
                "bio": bio,
                "image": format!("https://api.dicebear.com/9.x/initials/svg?seed={name}"),
            }))?
            .try_into()?;
        update_user::update_user(app, &user.user_id, &Session::first(), update, None).await?;
        users.push(user.user_id);
    }
    let mut slugs: Vec<Slug> = Vec::new();
    for round in 0..4 {
        for (i, (title, tags)) in TOPICS.iter().enumerate() {
            if (round * TOPICS.len() + i) % 11 == 10 {
                continue;
            }
            let author = &users[(round + i) % users.len()];
            let title = if round == 0 {
                title.to_string()
            } else {
                format!("{title}, part {}", round + 1)
            };
            let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
            let description = format!("Notes on {}", title.to_lowercase());
            let body = format!(
                "# {title}\n\nThis is demo content for the local Conduit API.\n\n- one\n- two\n- three\n"
            );
            let draft = ArticleDraft::new(
                Title::parse(Some(&title)).map_err(|e| anyhow!(e))?,
                Description::parse(Some(&description)).map_err(|e| anyhow!(e))?,
                ArticleText::parse(Some(&body)).map_err(|e| anyhow!(e))?,
                parse_tag_list(Some(&tags)).map_err(|e| anyhow!(e))?,
            );
            let plan = create_article::plan_article(
                app,
                author,
                &Session::first(),
                draft,
                Timestamp::now(),
            )
            .await?;
            let view = create_article::create_article(app, plan, None).await?;
            slugs.push(view.article.slug);
        }
    }
    for (i, follower) in users.iter().enumerate() {
        for (j, (name, _)) in DEMO_USERS.iter().enumerate() {
            if i != j && (i + j) % 2 == 1 {
                let name = Username::parse(Some(name)).map_err(|e| anyhow!(e))?;
                let plan = following::plan_following(app, follower, &name, true).await?;
                following::set_following(app, plan, None).await?;
            }
        }
    }
    for (k, slug) in slugs.iter().enumerate() {
        let (_, id) = Slug::parse(slug.as_str()).context("seeded slug")?;
        for (u, user) in users.iter().enumerate() {
            if (k + u) % 3 == 0 {
                let plan = favoriting::plan_favorite(app, slug, &id, user, &Session::first(), true)
                    .await?;
                favoriting::set_favorite(app, plan, None).await?;
            }
            if (k + 2 * u) % 5 == 0 {
                let comment: add_comment::NewComment = serde_json::from_value::<CommentInput>(
                    serde_json::json!({"body": format!("Great read! (comment {k}-{u})")}),
                )?
                .try_into()?;
                let now = Timestamp::now();
                let plan = add_comment::plan_comment(
                    app,
                    slug,
                    &id,
                    user,
                    &Session::first(),
                    comment,
                    now,
                )
                .await?;
                add_comment::add_comment(app, plan, None).await?;
            }
        }
    }
    Ok(true)
}

type UpdateInput = update_user::UpdateUserDto;
type CommentInput = add_comment::NewCommentDto;
