# `sam build` runs `make build-<LogicalId>` once per function (BuildMethod:
# makefile, built in the source tree: samconfig.toml). The first call builds
# every function for arm64 in one cargo invocation, so dependencies compile
# once and the links run in parallel; the other calls find them built and only
# copy their binary. (The rust-cargolambda build method built one binary per
# cargo invocation: 33 minutes for 19 functions on 2 cores.)
#
# Needs cargo-lambda and zig (scripts/requirements.txt installs both) and the
# Rust target aarch64-unknown-linux-gnu (installed here when missing).

export CARGO_TARGET_DIR ?= $(CURDIR)/target
PACKAGES := $(addprefix -p ,register login get_current_user update_user get_profile follow_user unfollow_user list_articles get_feed get_article create_article update_article delete_article list_comments add_comment delete_comment favorite_article unfavorite_article get_tags get_openapi end_sessions key_ring)

.PHONY: lambda-binaries
lambda-binaries:
	@rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
	cargo lambda build --release --arm64 $(PACKAGES)

# build-<LogicalId>: copies the function's binary into SAM's artifacts folder.
define function
.PHONY: build-$(1)
build-$(1): lambda-binaries
	cp $(CARGO_TARGET_DIR)/lambda/$(2)/bootstrap $(ARTIFACTS_DIR)/bootstrap
endef

$(eval $(call function,RegisterFunction,register))
$(eval $(call function,LoginFunction,login))
$(eval $(call function,GetCurrentUserFunction,get_current_user))
$(eval $(call function,UpdateUserFunction,update_user))
$(eval $(call function,EndSessionsFunction,end_sessions))
$(eval $(call function,KeyRingFunction,key_ring))
$(eval $(call function,GetProfileFunction,get_profile))
$(eval $(call function,FollowUserFunction,follow_user))
$(eval $(call function,UnfollowUserFunction,unfollow_user))
$(eval $(call function,ListArticlesFunction,list_articles))
$(eval $(call function,GetFeedFunction,get_feed))
$(eval $(call function,GetArticleFunction,get_article))
$(eval $(call function,CreateArticleFunction,create_article))
$(eval $(call function,UpdateArticleFunction,update_article))
$(eval $(call function,DeleteArticleFunction,delete_article))
$(eval $(call function,ListCommentsFunction,list_comments))
$(eval $(call function,AddCommentFunction,add_comment))
$(eval $(call function,DeleteCommentFunction,delete_comment))
$(eval $(call function,FavoriteArticleFunction,favorite_article))
$(eval $(call function,UnfavoriteArticleFunction,unfavorite_article))
$(eval $(call function,GetTagsFunction,get_tags))
$(eval $(call function,GetOpenapiFunction,get_openapi))
