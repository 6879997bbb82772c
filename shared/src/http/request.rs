//! Reading requests: the JSON body (size, UTF-8, syntax and types, naming
//! the field), path and query parameters.

use lambda_http::{Request, RequestExt};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::domain::{ArticleId, Page, Slug, ValidationErrors, limits};

/// Parses a JSON body, naming the offending field in the error.
pub(crate) fn parse_json<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > limits::REQUEST_BODY_MAX {
        return Err(ApiError::PayloadTooLarge);
    }
    // API Gateway passes bodies that are not text as base64, which the runtime
    // decodes to bytes: anything here may be arbitrary binary.
    if std::str::from_utf8(bytes).is_err() {
        return Err(ValidationErrors::single("body", "is not valid UTF-8").into());
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ValidationErrors::single("body", "can't be empty").into());
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    let value = parsed.map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                ValidationErrors::single("body", "is not valid JSON")
            }
            _ => {
                let field = if path == "." || path.is_empty() {
                    "body".to_owned()
                } else {
                    path
                };
                ValidationErrors::single(field, strip_position(&inner.to_string()))
            }
        }
    })?;
    deserializer
        .end()
        .map_err(|_| ValidationErrors::single("body", "is not valid JSON"))?;
    Ok(value)
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// A path parameter of the route, as API Gateway extracted it.
pub(crate) fn path_param(request: &Request, name: &str) -> Option<String> {
    request
        .path_parameters_ref()
        .and_then(|params| params.first(name))
        .map(str::to_owned)
}

/// A query-string parameter.
pub(crate) fn query_param(request: &Request, name: &str) -> Option<String> {
    request
        .query_string_parameters_ref()
        .and_then(|params| params.first(name))
        .map(str::to_owned)
}

/// `limit` and `offset` from the query string.
pub(crate) fn page(request: &Request) -> Result<Page, ApiError> {
    let limit = query_param(request, "limit");
    let offset = query_param(request, "offset");
    Ok(Page::parse(limit.as_deref(), offset.as_deref())?)
}

/// The article a `{slug}` path parameter names; 404 when it can name none.
pub(crate) fn slug_param(request: &Request) -> Result<(Slug, ArticleId), ApiError> {
    path_param(request, "slug")
        .as_deref()
        .and_then(Slug::parse)
        .ok_or(ApiError::NotFound("article"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::Body;
    use lambda_http::http::StatusCode;
    use serde::Deserialize;

    use crate::http::error::tests::errors_of;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Wrapper {
        user: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        email: Option<String>,
    }

    fn request(body: &str) -> Request {
        Request::new(Body::from(body))
    }

    #[test]
    fn malformed_json_is_a_422_on_the_body() {
        let error = parse_json::<Wrapper>(&request("{not json")).unwrap_err();
        let (status, body) = errors_of(error);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"]["body"][0], "is not valid JSON");
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let error = parse_json::<Wrapper>(&request(r#"{"user":{"email":5}}"#)).unwrap_err();
        let (status, body) = errors_of(error);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["errors"]["user.email"][0]
                .as_str()
                .unwrap()
                .contains("invalid type")
        );
    }

    #[test]
    fn a_missing_wrapper_is_reported() {
        let error = parse_json::<Wrapper>(&request(r#"{"email":"a@b.c"}"#)).unwrap_err();
        let (_, body) = errors_of(error);
        assert_eq!(body["errors"]["body"][0], "missing field `user`");
    }

    #[test]
    fn an_empty_body_is_reported() {
        let (status, body) = errors_of(parse_json::<Wrapper>(&request("  ")).unwrap_err());
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"]["body"][0], "can't be empty");
    }

    #[test]
    fn a_body_that_is_not_utf8_is_a_422_saying_so() {
        let request = Request::new(Body::from(b"{\"user\":\xff}".to_vec()));
        let (status, body) = errors_of(parse_json::<Wrapper>(&request).unwrap_err());
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"]["body"][0], "is not valid UTF-8");
    }

    #[test]
    fn trailing_garbage_is_refused() {
        assert!(parse_json::<Wrapper>(&request(r#"{"user":{}} x"#)).is_err());
    }

    #[test]
    fn an_oversized_body_is_a_413() {
        let huge = format!(r#"{{"user":{{"email":"{}"}}}}"#, "a".repeat(300 * 1024));
        let error = parse_json::<Wrapper>(&request(&huge)).unwrap_err();
        assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
