//! The domain: entities and the values they are made of. Every value here
//! was parsed from untrusted input once, by its `parse` (which deserialising
//! calls too, through `serde(try_from)`); past that point an invalid
//! username, email, slug or tag cannot exist. Nothing here uses another
//! module of this crate.

/// Implements `TryFrom<String>` through a parse function, so that
/// `#[serde(try_from = "String")]` validates whatever is deserialised.
macro_rules! parsed_from_string {
    ($name:ident, $parse:expr) => {
        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(raw: String) -> Result<Self, String> {
                let parse: fn(&str) -> Result<Self, String> = $parse;
                parse(&raw)
            }
        }
    };
}

mod client;
mod entities;
mod errors;
mod ids;
mod instant;
pub(crate) mod limits;
mod page;
mod text;

pub use client::ClientAddress;
pub(crate) use errors::ValidationErrors;
pub use instant::Timestamp;
pub use page::{CommentsPage, Page};
pub use {
    entities::Article, entities::ArticlePage, entities::ArticleView, entities::Comment,
    entities::CommentView, entities::EndSessions, entities::Profile, entities::Taken,
    entities::User, entities::UserChanges,
};
pub use {
    ids::ArticleId, ids::CommentId, ids::Session, ids::SessionEpoch, ids::SessionId, ids::Slug,
    ids::UserId,
};
pub use {
    text::ArticleText, text::Bio, text::CommentText, text::Description, text::Email,
    text::ImageUrl, text::Password, text::PasswordHashString, text::Tag, text::Title,
    text::Username, text::parse_tag_list,
};
