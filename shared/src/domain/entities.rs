//! The entities: what users, articles and comments are, and how one viewer
//! sees them. The store maps them to and from items; the API renders them.

use serde::{Deserialize, Serialize};

use super::ids::{ArticleId, CommentId, Session, SessionEpoch, SessionId, Slug, UserId};
use super::instant::Timestamp;
use super::text::{
    ArticleText, Bio, CommentText, Description, Email, ImageUrl, Tag, Title, Username,
};
use crate::domain::PasswordHashString;

/// A user: who they are, how they log in, what they have written and favorited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Stable id, the JWT `sub`: usernames change, this never does.
    pub user_id: UserId,
    /// Display username.
    pub username: Username,
    /// Email as entered.
    pub email: Email,
    /// argon2id PHC string.
    pub password_hash: PasswordHashString,
    /// Bio; absent when unset or cleared (read back as `null`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<Bio>,
    /// Optional image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageUrl>,
    /// Articles written (exact: changed in the same transaction as the article).
    #[serde(default)]
    pub article_count: u64,
    /// Articles favorited (exact: changed in the same transaction as the favorite).
    #[serde(default)]
    pub favorite_count: u64,
    /// Newest articles, newest first, as index sort keys (`created#id`); every
    /// article of this author newer than the last entry is listed.
    #[serde(default)]
    pub recent: Vec<String>,
    /// The live session epoch: tokens carrying another are refused, but
    /// those of `kept_session`.
    #[serde(default)]
    pub session_epoch: SessionEpoch,
    /// The session a password change was made in, which outlives the
    /// sessions it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_session: Option<SessionId>,
    /// Optimistic-lock version guarding `recent` and `article_count`.
    #[serde(default)]
    pub version: u64,
}

impl User {
    /// Whether a token of `session` still works: issued since sessions were
    /// last ended, or of the session kept when they were.
    pub fn admits(&self, session: &Session) -> bool {
        session.epoch == self.session_epoch || self.kept_session.as_ref() == Some(&session.id)
    }

    /// A new user `user_id` (the caller picks it), with no profile text and zeroed counters.
    pub fn new(
        user_id: UserId,
        username: Username,
        email: Email,
        password_hash: PasswordHashString,
    ) -> Self {
        Self {
            user_id,
            username,
            email,
            password_hash,
            bio: None,
            image: None,
            article_count: 0,
            favorite_count: 0,
            session_epoch: SessionEpoch::FIRST,
            kept_session: None,
            recent: Vec::new(),
            version: 0,
        }
    }
}

/// An article's metadata (the body is read and written apart from it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// Stable id: the tail of every slug the article ever has, and its partition.
    pub article_id: ArticleId,
    /// Current slug; an old one (from an earlier title) no longer resolves.
    pub slug: Slug,
    /// Title (the slug's words come from it).
    pub title: Title,
    /// One-line description.
    pub description: Description,
    /// Sorted, de-duplicated tags.
    pub tag_list: Vec<Tag>,
    /// Who wrote it (immutable, so pointers may copy it).
    pub author_id: UserId,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
    /// Exact count of favorite items (once the article is hot, the store
    /// adds its counter items' to what its own item holds).
    #[serde(default)]
    pub favorites_count: u64,
    /// How many counter items take this article's favorites (0: its own
    /// item does). Set once, by the store, when favoriting it contends.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub favorite_shards: u8,
    /// Set while a delete is in progress: the article reads as gone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleting: bool,
    /// Bumped by every edit and guarded by it, so an edit or delete that read
    /// an older version (older tags, so older tag links to fix) cannot commit.
    #[serde(default)]
    pub version: u64,
}

/// A comment on an article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    /// Integer id, unique within the article.
    pub id: CommentId,
    /// The comment's text.
    pub body: CommentText,
    /// Who wrote it: the only one who may delete it.
    pub author_id: UserId,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

/// An article as one viewer sees it.
#[derive(Debug, Clone)]
pub struct ArticleView {
    /// The article.
    pub article: Article,
    /// Its author.
    pub author: User,
    /// Whether the viewer follows the author.
    pub following: bool,
    /// Whether the viewer favorited the article.
    pub favorited: bool,
    /// The body, on single-article reads only (lists never read it).
    pub body: Option<ArticleText>,
}

/// A comment with its author as the viewer sees them.
#[derive(Debug, Clone)]
pub struct CommentView {
    /// The comment.
    pub comment: Comment,
    /// Its author.
    pub author: User,
    /// Whether the viewer follows the author.
    pub following: bool,
}

/// A user as one viewer sees them.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The user.
    pub user: User,
    /// Whether the viewer follows them.
    pub following: bool,
}

/// One page of a list, with the total the list has.
#[derive(Debug, Clone, Default)]
pub struct ArticlePage {
    /// Articles matching the list, all pages together.
    pub count: u64,
    /// This page, newest first.
    pub articles: Vec<ArticleView>,
}

/// Which uniqueness claims were already held by someone else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Taken {
    /// The username is taken.
    pub username: bool,
    /// The email is taken.
    pub email: bool,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct UserChanges {
    /// New username; its claim moves with it, atomically.
    pub username: Option<Username>,
    /// New email; its claim moves with it, atomically.
    pub email: Option<Email>,
    /// New password hash.
    pub password_hash: Option<PasswordHashString>,
    /// New bio (`Some(None)` clears it).
    pub bio: Option<Option<Bio>>,
    /// New image (`Some(None)` clears it).
    pub image: Option<Option<ImageUrl>>,
    /// Sessions to end.
    pub end_sessions: Option<EndSessions>,
}

/// Which sessions a change ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndSessions {
    /// Every one (signing out everywhere).
    All,
    /// Every one but this (a password change, in this session).
    AllBut(SessionId),
}

impl UserChanges {
    /// Applies the changes to a copy of `user`.
    pub(crate) fn apply(&self, user: &User) -> User {
        let mut next = user.clone();
        if let Some(username) = &self.username {
            next.username = username.clone();
        }
        if let Some(email) = &self.email {
            next.email = email.clone();
        }
        if let Some(hash) = &self.password_hash {
            next.password_hash = hash.clone();
        }
        if let Some(bio) = &self.bio {
            next.bio = bio.clone();
        }
        if let Some(image) = &self.image {
            next.image = image.clone();
        }
        if let Some(end) = &self.end_sessions {
            next.session_epoch = user.session_epoch.next();
            next.kept_session = match end {
                EndSessions::All => None,
                EndSessions::AllBut(kept) => Some(kept.clone()),
            };
        }
        next
    }
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User::new(
            UserId::generate(),
            Username::parse(Some("jake")).unwrap(),
            Email::parse(Some("jake@example.com")).unwrap(),
            PasswordHashString::parse("$argon2id$x").unwrap(),
        )
    }

    fn login(user: &User) -> Session {
        Session {
            id: SessionId::generate(),
            epoch: user.session_epoch,
        }
    }

    #[test]
    fn a_password_change_ends_every_session_but_the_one_it_was_made_in() {
        let before = user();
        let (mine, other) = (login(&before), login(&before));
        let changes = UserChanges {
            end_sessions: Some(EndSessions::AllBut(mine.id.clone())),
            ..UserChanges::default()
        };
        let after = changes.apply(&before);
        assert!(after.admits(&mine));
        assert!(!after.admits(&other));
        // A login after the change is a session of the new epoch.
        assert!(after.admits(&login(&after)));
        // A second change in the same session keeps it still.
        let again = changes.apply(&after);
        assert!(again.admits(&mine) && !again.admits(&other));
    }

    #[test]
    fn signing_out_everywhere_ends_every_session_the_kept_one_included() {
        let before = user();
        let mine = login(&before);
        let kept = UserChanges {
            end_sessions: Some(EndSessions::AllBut(mine.id.clone())),
            ..UserChanges::default()
        }
        .apply(&before);
        let after = UserChanges {
            end_sessions: Some(EndSessions::All),
            ..UserChanges::default()
        }
        .apply(&kept);
        assert!(!after.admits(&mine));
        assert!(!after.admits(&login(&kept)));
        assert!(after.admits(&login(&after)));
    }

    #[test]
    fn changes_that_end_no_session_keep_every_one() {
        let before = user();
        let session = login(&before);
        let after = UserChanges {
            bio: Some(None),
            ..UserChanges::default()
        }
        .apply(&before);
        assert!(after.admits(&session));
        assert_eq!(after.session_epoch, before.session_epoch);
    }
}
