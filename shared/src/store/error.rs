//! Storage failures, and which of them are DynamoDB's state (a 503) rather
//! than our request being wrong (a 500).

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// A storage failure. [`StoreError::Unavailable`] and [`StoreError::Contended`]
/// are DynamoDB being unreachable, slow, throttling or contended: a 503 the
/// client may retry. The rest are unexpected: a 500. Either way the cause goes
/// to the log only.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB could not be reached, did not answer within the time budget,
    /// throttled the request or failed on its side (5xx); retrying later may work.
    #[error("DynamoDB {operation} request failed transiently")]
    Unavailable {
        /// Which operation.
        operation: &'static str,
        /// The SDK error, or the deadline that ran out.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The request to DynamoDB failed in a way retrying will not fix.
    #[error("DynamoDB {operation} request failed")]
    Request {
        /// Which operation.
        operation: &'static str,
        /// The SDK error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An item could not be read back as its record type.
    #[error("a stored item is malformed")]
    Malformed(#[source] serde_dynamo::Error),
    /// Something that cannot happen did (a broken invariant); a 500.
    #[error("unexpected storage outcome")]
    Unexpected(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A transaction kept losing to concurrent writers.
    #[error("transaction still conflicting after {0} attempts")]
    Contended(u32),
}

impl StoreError {
    /// The error for a failed SDK request, transient or not (see [`is_transient`]).
    pub(crate) fn request<E>(operation: &'static str, source: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if is_transient(&source) {
            Self::Unavailable {
                operation,
                source: Box::new(source),
            }
        } else {
            Self::Request {
                operation,
                source: Box::new(source),
            }
        }
    }

    /// Whether the client may retry the request later (a 503 rather than a 500).
    pub(crate) fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Contended(_))
    }
}

/// Error codes DynamoDB uses for throttling and for failures on its side.
const TRANSIENT_CODES: [&str; 6] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
];

/// Whether an SDK failure is DynamoDB being unavailable rather than our
/// request being wrong: no connection, no answer in time (the SDK's own
/// retries included), a broken response, throttling, or a 5xx.
fn is_transient<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            service.raw().status().is_server_error()
                || service.err().code().is_some_and(|code| {
                    TRANSIENT_CODES
                        .iter()
                        .any(|transient| code.ends_with(transient))
                })
        }
        // ConstructionFailure and anything new: our bug, not DynamoDB's state.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::{ConnectorError, ErrorMetadata};
    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    use aws_smithy_types::body::SdkBody;

    fn service(status: u16, code: &str) -> SdkError<GetItemError, HttpResponse> {
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        let error = GetItemError::generic(ErrorMetadata::builder().code(code).build());
        SdkError::service_error(error, raw)
    }

    #[test]
    fn no_connection_no_answer_throttling_and_5xx_are_transient() {
        let cases: Vec<SdkError<GetItemError, HttpResponse>> = vec![
            SdkError::timeout_error(std::io::Error::other("attempt timed out")),
            SdkError::dispatch_failure(ConnectorError::io(Box::new(std::io::Error::from(
                std::io::ErrorKind::ConnectionRefused,
            )))),
            service(400, "ProvisionedThroughputExceededException"),
            service(400, "com.amazonaws.dynamodb.v20120810#ThrottlingException"),
            service(400, "RequestLimitExceeded"),
            service(500, "InternalServerError"),
            service(503, "ServiceUnavailable"),
        ];
        for error in cases {
            let described = format!("{error:?}");
            let error = StoreError::request("GetItem", error);
            assert!(error.is_transient(), "{described}");
        }
    }

    #[test]
    fn a_request_dynamodb_rejects_as_wrong_is_not_transient() {
        for code in [
            "ValidationException",
            "ResourceNotFoundException",
            "AccessDeniedException",
        ] {
            let error = StoreError::request("GetItem", service(400, code));
            assert!(!error.is_transient(), "{code}");
        }
    }

    #[test]
    fn contention_that_outlived_the_retries_is_transient() {
        assert!(StoreError::Contended(40).is_transient());
    }
}
