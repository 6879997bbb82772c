//! The response bodies of the RealWorld spec that several endpoints share:
//! what each use case's result looks like on the wire (an endpoint's own
//! envelope, such as `TagsBody`, sits in its module). Only `serve` functions
//! build them.

use crate::domain::{ArticleView, CommentView, User};
use serde::Serialize;
use utoipa::ToSchema;

/// `{"user": {...}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UserResponse)]
pub(crate) struct UserBody {
    /// The user.
    pub user: UserDto,
}

/// A user with their token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub(crate) struct UserDto {
    /// The address as the user typed it (uniqueness ignores case).
    pub email: String,
    /// The caller's JWT: freshly issued on login and registration, echoed back otherwise.
    pub token: String,
    /// The display username (uniqueness ignores case).
    pub username: String,
    /// Bio, `null` when unset or cleared.
    #[schema(required = true)]
    pub bio: Option<String>,
    /// Image URL, `null` when unset or cleared.
    #[schema(required = true)]
    pub image: Option<String>,
}

impl UserBody {
    /// The body for `user` holding `token`.
    pub fn new(user: &User, token: String) -> Self {
        Self {
            user: UserDto {
                email: user.email.as_str().to_owned(),
                token,
                username: user.username.as_str().to_owned(),
                bio: user.bio.as_ref().map(|b| b.as_str().to_owned()),
                image: user.image.as_ref().map(|i| i.as_str().to_owned()),
            },
        }
    }
}

/// `{"profile": {...}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ProfileResponse)]
pub(crate) struct ProfileBody {
    /// The profile.
    pub profile: ProfileDto,
}

/// A user as others see them.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Profile)]
pub(crate) struct ProfileDto {
    /// The display username (what `/profiles/{username}` takes, in any case).
    pub username: String,
    /// Bio, `null` when unset.
    #[schema(required = true)]
    pub bio: Option<String>,
    /// Image URL, `null` when unset.
    #[schema(required = true)]
    pub image: Option<String>,
    /// Whether the viewer follows them (`false` for anonymous viewers).
    pub following: bool,
}

impl ProfileDto {
    /// `user` as seen by a viewer who does or does not follow them.
    pub fn new(user: &User, following: bool) -> Self {
        Self {
            username: user.username.as_str().to_owned(),
            bio: user.bio.as_ref().map(|b| b.as_str().to_owned()),
            image: user.image.as_ref().map(|i| i.as_str().to_owned()),
            following,
        }
    }
}

/// An article as lists show it: everything but the body.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ArticleSummary)]
pub(crate) struct ArticleSummaryDto {
    /// URL name: the title's words and the article id; changes with the title.
    pub slug: String,
    /// Title as written (trimmed).
    pub title: String,
    /// One-line summary as written (trimmed).
    pub description: String,
    /// Tags, normalised (lowercase), de-duplicated and sorted.
    pub tag_list: Vec<String>,
    /// ISO 8601 with milliseconds.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// ISO 8601 with milliseconds.
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Whether the viewer favorited it.
    pub favorited: bool,
    /// Favorites in all.
    pub favorites_count: u64,
    /// The author as the viewer sees them.
    pub author: ProfileDto,
}

impl ArticleSummaryDto {
    /// The wire form of `view` in a list.
    pub fn new(view: &ArticleView) -> Self {
        let article = &view.article;
        Self {
            slug: article.slug.as_str().to_owned(),
            title: article.title.as_str().to_owned(),
            description: article.description.as_str().to_owned(),
            tag_list: article
                .tag_list
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            created_at: article.created_at.render(),
            updated_at: article.updated_at.render(),
            favorited: view.favorited,
            favorites_count: article.favorites_count,
            author: ProfileDto::new(&view.author, view.following),
        }
    }
}

/// An article on its own: the summary and the body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Article)]
pub(crate) struct ArticleDto {
    /// Everything lists show.
    #[serde(flatten)]
    pub summary: ArticleSummaryDto,
    /// The body as written.
    pub body: String,
}

impl ArticleDto {
    /// The wire form of `view`, a single-article read (which always loads the body).
    pub fn new(view: &ArticleView) -> Self {
        debug_assert!(view.body.is_some(), "single-article views carry the body");
        Self {
            summary: ArticleSummaryDto::new(view),
            body: view
                .body
                .as_ref()
                .map(|b| b.as_str().to_owned())
                .unwrap_or_default(),
        }
    }
}

/// `{"article": {...}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SingleArticleResponse)]
pub(crate) struct ArticleBody {
    /// The article.
    pub article: ArticleDto,
}

/// `{"articles": [...], "articlesCount": n}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MultipleArticlesResponse)]
pub(crate) struct ArticlesBody {
    /// This page, newest first, without bodies.
    pub articles: Vec<ArticleSummaryDto>,
    /// Matching articles on all pages.
    pub articles_count: u64,
}

/// A comment.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Comment)]
pub(crate) struct CommentDto {
    /// Integer id, unique within the article (the spec wants integers).
    pub id: u64,
    /// ISO 8601 with milliseconds.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// ISO 8601 with milliseconds.
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The comment's text as written (trimmed).
    pub body: String,
    /// Author as the viewer sees them.
    pub author: ProfileDto,
}

impl CommentDto {
    /// The wire form of `view`.
    pub fn new(view: &CommentView) -> Self {
        Self {
            id: view.comment.id.get(),
            created_at: view.comment.created_at.render(),
            updated_at: view.comment.updated_at.render(),
            body: view.comment.body.as_str().to_owned(),
            author: ProfileDto::new(&view.author, view.following),
        }
    }
}
